import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Contract } from '../../src/core/contract.js';
import { InputError } from '../../src/core/errors.js';
import { Random } from '../../src/core/random.js';
import { asModelBundle, fitModel, outlierThreshold, parseModel, serialiseModel } from '../../src/detectors/bundle.js';
import { detectorSettings, featureColumnNames } from '../../src/detectors/settings.js';
import { CONTRACT, sample } from './fixtures.js';
import { batch, numeric, strings } from './helpers.js';

const CREATED = '2024-01-02T03:04:05.000Z';

test('feature columns: every contract column except label, id and source', () => {
  assert.deepEqual(featureColumnNames(CONTRACT), ['size', 'weight', 'colour']);
});

test('a fit holds every detector, and serialising is deterministic', () => {
  const data = sample(600, 1);
  const a = fitModel(data, CONTRACT, { seed: 7, createdAt: CREATED });
  assert.deepEqual(a.skipped, {});
  assert.ok(a.outlier && a.labelModel && a.triggerBaseline && a.driftBaseline);
  assert.deepEqual(a.labelModel.classes, ['a', 'b']);
  assert.equal(a.contractSha256.length, 64);
  const text = serialiseModel(a);
  assert.equal(serialiseModel(fitModel(data, CONTRACT, { seed: 7, createdAt: CREATED })), text);
  assert.notEqual(serialiseModel(fitModel(data, CONTRACT, { seed: 8, createdAt: CREATED })), text);
  // Parse and serialise again: the same bytes.
  const parsed = parseModel(text);
  assert.equal(serialiseModel(parsed), text);
  assert.equal(asModelBundle(text)!.seed, 7);
  assert.equal(asModelBundle(JSON.parse(text))!.outlier!.threshold, a.outlier.threshold);
  assert.equal(asModelBundle(a), a);
  assert.equal(asModelBundle(undefined), null);
});

test('fitted on the input about to be scanned, the label model keeps its out-of-fold probabilities by input row', () => {
  const data = sample(300, 4);
  // The sample's rows were input rows 1000, 1003, 1006, ...; row 7 has no label.
  const labels = data.byName.get('kind')!;
  const unlabelled = batch(data.columns.map((c) => (c === labels ? strings('kind', (labels.values as string[]).map((v, r) => (r === 7 ? null : v))) : c)));
  const inputRows = Float64Array.from({ length: 300 }, (_, r) => 1000 + 3 * r);
  const kept = fitModel(unlabelled, CONTRACT, { seed: 3, createdAt: CREATED, sampleInputRows: inputRows }).labelModel!;
  const plain = fitModel(unlabelled, CONTRACT, { seed: 3, createdAt: CREATED }).labelModel!;
  assert.equal(plain.outOfFold, undefined);
  const expectedRows = [...inputRows].filter((_, r) => r !== 7);
  assert.deepEqual([...kept.outOfFold!.rows], expectedRows);
  // Class probabilities, each row's summing to 1.
  const { probabilities } = kept.outOfFold!;
  assert.equal(probabilities.length, 2 * expectedRows.length);
  for (let i = 0; i < expectedRows.length; i++) assert.ok(Math.abs(probabilities[2 * i]! + probabilities[2 * i + 1]! - 1) < 1e-12);
  // Everything else is the model fitted without them.
  assert.deepEqual({ ...kept, outOfFold: undefined }, { ...plain, outOfFold: undefined });
  assert.deepEqual(parseModel(serialiseModel({ ...fitModel(unlabelled, CONTRACT, { seed: 3, createdAt: CREATED }), labelModel: kept })).labelModel!.outOfFold, kept.outOfFold);
});

test('detectors that cannot be fitted are skipped with a reason', () => {
  const data = sample(200, 2);
  const noLabel = fitModel(data, { ...CONTRACT, label: undefined }, { seed: 1, createdAt: CREATED });
  assert.deepEqual(noLabel.skipped, { label_flip: 'the contract names no label column', trigger: 'the contract names no label column' });
  const oneClass = batch(data.columns.map((c) => (c.name === 'kind' ? strings('kind', new Array(200).fill('a')) : c)));
  const single = fitModel(oneClass, CONTRACT, { seed: 1, createdAt: CREATED });
  assert.match(single.skipped.label_flip!, /one class \('a'\) in 200 labelled rows/);
  assert.match(single.skipped.trigger!, /1 class in the sample/);
  assert.ok(single.outlier !== null && single.driftBaseline !== null);
  const disabled = fitModel(data, { ...CONTRACT, detectors: { outlier: { enabled: false } }, drift: { enabled: false } }, { seed: 1, createdAt: CREATED });
  assert.equal(disabled.outlier, null);
  assert.equal(disabled.driftBaseline, null);
  assert.match(disabled.skipped.outlier!, /disabled/);
  const onlyConstant = batch([numeric('size', new Array(50).fill(1)), strings('kind', new Array(50).fill('a'))]);
  const empty = fitModel(onlyConstant, { ...CONTRACT, columns: [{ name: 'size', type: 'float' }, { name: 'kind', type: 'string' }] }, { seed: 1 });
  assert.match(empty.skipped.outlier!, /no usable feature column/);
});

test('a label model that would flag too many of the rows it was fitted on is skipped, saying why', () => {
  const data = sample(600, 5);
  // The same rows with labels that have nothing to do with the features.
  const random = new Random(9);
  const labels = data.byName.get('kind')!.values as string[];
  const shuffled = batch(data.columns.map((c) => (c.name === 'kind' ? strings('kind', random.shuffle([...labels])) : c)));
  const inputRows = Float64Array.from({ length: 600 }, (_, r) => r);
  const cases: { name: string; rows: typeof data; contract: Contract; self: boolean; skipped: RegExp | null }[] = [
    { name: 'labels the features decide, trusted', rows: data, contract: CONTRACT, self: false, skipped: null },
    { name: 'labels the features decide, fitted on the scanned data', rows: data, contract: CONTRACT, self: true, skipped: null },
    { name: 'shuffled labels, trusted', rows: shuffled, contract: CONTRACT, self: false, skipped: /of the trusted rows it was fitted on, above detectors\.label_flip\.maxFalseAlarms \(0\.1\)/ },
    { name: 'shuffled labels, fitted on the scanned data', rows: shuffled, contract: CONTRACT, self: true, skipped: /of the sampled rows, above detectors\.label_flip\.maxSelfFlagged \(0\.3\)/ },
    { name: 'shuffled labels, trusted, limit lifted', rows: shuffled, contract: { ...CONTRACT, detectors: { label_flip: { maxFalseAlarms: 1 } } }, self: false, skipped: null },
  ];
  for (const c of cases) {
    const bundle = fitModel(c.rows, c.contract, { seed: 2, createdAt: CREATED, ...(c.self ? { sampleInputRows: inputRows } : {}) });
    if (c.skipped === null) {
      assert.equal(bundle.skipped.label_flip, undefined, c.name);
      assert.ok(bundle.labelModel !== null && bundle.labelModel.fitFlagged !== null, c.name);
    } else {
      assert.equal(bundle.labelModel, null, c.name);
      assert.match(bundle.skipped.label_flip!, c.skipped, c.name);
    }
  }
  // The share is recorded in the bundle: low where the labels follow the features, high where not.
  assert.ok(fitModel(data, CONTRACT, { seed: 2, createdAt: CREATED }).labelModel!.fitFlagged! < 0.02);
  const lifted = fitModel(shuffled, { ...CONTRACT, detectors: { label_flip: { maxFalseAlarms: 1 } } }, { seed: 2, createdAt: CREATED }).labelModel!;
  assert.ok(lifted.fitFlagged! > 0.3, String(lifted.fitFlagged));
  assert.throws(() => detectorSettings({ ...CONTRACT, detectors: { label_flip: { maxFalseAlarms: 0 } } }), /maxFalseAlarms.*\(0, 1\]/);
});

test('a label with more classes than maxClasses skips the label-flip and trigger detectors, saying so', () => {
  const data = sample(360, 6);
  // 120 classes, three rows each: an identifier named as the label, say.
  const many = batch(data.columns.map((c) => (c.name === 'kind' ? strings('kind', Array.from({ length: 360 }, (_, r) => `k${r % 120}`)) : c)));
  const skipped = fitModel(many, CONTRACT, { seed: 1, createdAt: CREATED });
  assert.equal(skipped.labelModel, null);
  assert.equal(skipped.triggerBaseline, null);
  assert.equal(skipped.skipped.label_flip, 'the label has 120 classes in the sample, more than detectors.label_flip.maxClasses (100)');
  assert.equal(skipped.skipped.trigger, 'the label has 120 classes in the sample, more than detectors.trigger.maxClasses (100)');
  // The other detectors fit as usual.
  assert.ok(skipped.outlier !== null && skipped.driftBaseline !== null);
  const lifted = fitModel(many, { ...CONTRACT, detectors: { label_flip: { maxClasses: 200 }, trigger: { maxClasses: 200 } } }, { seed: 1, createdAt: CREATED });
  assert.doesNotMatch(lifted.skipped.label_flip ?? '', /maxClasses/);
  assert.ok(lifted.triggerBaseline !== null);
});

test('malformed model files give a clear input error', () => {
  const good = JSON.parse(serialiseModel(fitModel(sample(300, 3), CONTRACT, { seed: 1, createdAt: CREATED })));
  const cases: [string, RegExp][] = [
    ['{not json', /not valid JSON/],
    ['[]', /not a JSON object/],
    [JSON.stringify({ ...good, format: 'other' }), /format is "other"/],
    [JSON.stringify({ ...good, version: 99 }), /version 99 is not supported/],
    [JSON.stringify({ ...good, seed: 'x' }), /seed and sampleRows must be numbers/],
    [JSON.stringify({ ...good, parameters: {} }), /parameters\.outlier needs quantile and contamination/],
    [JSON.stringify({ ...good, encoder: { ...good.encoder, features: [{ kind: 'numeric', column: 'size', median: 1, mean: 1, scale: 0, missingIndicator: false }] } }), /model file, encoder: .*positive scale/],
    [JSON.stringify({ ...good, outlier: { ...good.outlier, forest: { ...good.outlier.forest, splitFeature: 'AAAA' } } }), /model file, outlier: forest/],
    [JSON.stringify({ ...good, outlier: { ...good.outlier, scoreQuantiles: [1, 0] } }), /scoreQuantiles must be 1001 ascending numbers/],
    [JSON.stringify({ ...good, labelModel: { ...good.labelModel, classes: ['a'] } }), /model file, labelModel: .*at least 2 class names/],
    [JSON.stringify({ ...good, triggerBaseline: { ...good.triggerBaseline, version: 0 } }), /model file, triggerBaseline: .*version must be 1/],
    [JSON.stringify({ ...good, driftBaseline: { ...good.driftBaseline, columns: [{ kind: 'x' }] } }), /model file, driftBaseline: .*kind must be/],
  ];
  for (const [text, message] of cases) assert.throws(() => parseModel(text), (e: unknown) => e instanceof InputError && message.test(e.message), String(message));
});

test('contract settings: defaults, overrides, and clear errors', () => {
  const defaults = detectorSettings(CONTRACT);
  assert.equal(defaults.outlier.quantile, 0.995);
  assert.deepEqual(defaults.drift.psi, { warn: 0.1, fail: 0.25 });
  const custom = detectorSettings({ ...CONTRACT, detectors: { outlier: { contamination: 0.02 }, trigger: { minLift: 6 } }, drift: { psi: { warn: 0.2, fail: 0.3 } } });
  assert.equal(custom.outlier.contamination, 0.02);
  assert.equal(custom.trigger.minLift, 6);
  assert.deepEqual(custom.drift.psi, { warn: 0.2, fail: 0.3 });
  const cases: [Partial<Contract>, RegExp][] = [
    [{ detectors: { outlier: { quantile: 1.5 } } }, /detectors\.outlier\.quantile: must be a number between 0 and 1/],
    [{ detectors: { outlier: 'yes' } }, /detectors\.outlier: must be an object/],
    [{ detectors: { label_flip: { folds: 1 } } }, /detectors\.label_flip\.folds: must be an integer >= 2/],
    [{ drift: { psi: { warn: 0.3, fail: 0.2 } } }, /drift\.psi: fail \(0\.2\) must not be below warn \(0\.3\)/],
    [{ drift: { enabled: 'no' } }, /drift\.enabled: must be true or false/],
  ];
  for (const [change, message] of cases) assert.throws(() => detectorSettings({ ...CONTRACT, ...change }), (e: unknown) => e instanceof InputError && message.test(e.message), String(message));
});

test('a scan can move the outlier threshold through the stored baseline quantiles', () => {
  const bundle = fitModel(sample(2000, 4), CONTRACT, { seed: 1, createdAt: CREATED });
  const fitted = bundle.parameters.outlier;
  assert.equal(outlierThreshold(bundle.outlier!, fitted, fitted), bundle.outlier!.threshold);
  const looser = outlierThreshold(bundle.outlier!, fitted, { ...fitted, quantile: 0.9 });
  const byContamination = outlierThreshold(bundle.outlier!, fitted, { ...fitted, contamination: 0.1 });
  assert.equal(looser, bundle.outlier!.scoreQuantiles[900]);
  assert.equal(byContamination, looser);
  assert.ok(looser < bundle.outlier!.threshold);
});
