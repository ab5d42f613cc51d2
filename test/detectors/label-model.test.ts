import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../../src/core/errors.js';
import { Random } from '../../src/core/random.js';
import { encodeFeatures, fitFeatureEncoder, matrixFromRows, type FeatureMatrix } from '../../src/detectors/features.js';
import { compileTrees, fitExtraTrees, predictExtraTrees, type ExtraTreesModel } from '../../src/detectors/extra-trees.js';
import { walkTrees } from '../../src/detectors/tree-walks.js';
import { fitLogistic, predictLogistic } from '../../src/detectors/logistic.js';
import {
  classBalanceShift,
  countLabels,
  encodeLabels,
  findLabelIssues,
  fitLabelModel,
  labelModelFromJson,
  labelModelToJson,
  perClassThresholds,
  predictLabelProbabilities,
  stratifiedFolds,
  batchThresholds,
  useOutOfFold,
} from '../../src/detectors/label-model.js';
import { batch, numeric, strings } from './helpers.js';

/** Three tight clusters at the corners of a triangle, `perClass` rows each, labelled a, b, c. */
function clusters(perClass: number, seed: number): { matrix: FeatureMatrix; codes: Int32Array } {
  const random = new Random(seed);
  const rows: number[][] = [];
  const codes: number[] = [];
  for (let k = 0; k < 3; k++) {
    for (let i = 0; i < perClass; i++) {
      rows.push([(k === 1 ? 10 : 0) + random.nextFloat() * 2 - 1, (k === 2 ? 10 : 0) + random.nextFloat() * 2 - 1]);
      codes.push(k);
    }
  }
  return { matrix: matrixFromRows(rows), codes: Int32Array.from(codes) };
}

test('perClassThresholds and the confident-learning rule on a hand-made table', () => {
  // Rows x classes; labels [0, 0, 1, 1, 2].
  const p = Float64Array.from([
    0.9, 0.05, 0.05, // labelled 0, fine
    0.2, 0.7, 0.1, // labelled 0, class 1 beats it and passes t_1
    0.1, 0.8, 0.1, // labelled 1, fine
    0.3, 0.6, 0.1, // labelled 1, fine
    0.45, 0.1, 0.45, // labelled 2, class 0 ties it: not strictly above
  ]);
  const codes = Int32Array.from([0, 0, 1, 1, 2]);
  const thresholds = perClassThresholds(p, codes, 3);
  assert.deepEqual(thresholds.map((t) => Math.round(t * 1e12) / 1e12), [0.55, 0.7, 0.45]);
  const issues = findLabelIssues(p, codes, thresholds);
  assert.deepEqual([...issues.suspects], [1]);
  assert.deepEqual([...issues.suggested], [-1, 1, -1, -1, -1]);
  assert.deepEqual([...issues.quality], [0.9, 0.2, 0.8, 0.6, 0.45]);
  // A missing label is never a suspect and has quality -1; a class with no rows gets threshold 2.
  const withMissing = findLabelIssues(p, Int32Array.from([0, -1, 1, 1, 2]), [0.5, 0.5, 0.5]);
  assert.deepEqual([...withMissing.suspects], []);
  assert.equal(withMissing.quality[1], -1);
  assert.deepEqual(perClassThresholds(p, Int32Array.from([0, 0, 0, 0, 0]), 3).slice(1), [2, 2]);
});

/** Flips 10% of each class (rows 3, 13, 23, ... of each block) to one of the other two classes. */
function flipTenPercent(codes: Int32Array, perClass: number): { noisy: Int32Array; flipped: number[] } {
  const noisy = Int32Array.from(codes);
  const flipped: number[] = [];
  for (let k = 0; k < 3; k++) {
    for (let j = 0; j < perClass / 10; j++) {
      const row = k * perClass + j * 10 + 3;
      noisy[row] = (k + 1 + (j % 2)) % 3;
      flipped.push(row);
    }
  }
  return { noisy, flipped };
}

test('flipped labels in separated clusters are exactly the suspects, for several seeds', () => {
  const { matrix, codes } = clusters(30, 1);
  // 10% of each class: the thresholds (mean self-confidence per given label) drop with the noise,
  // which is what lets flipped rows clear them.
  const { noisy, flipped } = flipTenPercent(codes, 30);
  assert.deepEqual(flipped, [3, 13, 23, 33, 43, 53, 63, 73, 83]);
  for (const seed of [1, 2, 3]) {
    const fit = fitLabelModel(matrix, noisy, ['a', 'b', 'c'], { seed });
    assert.equal(fit.skipped, null);
    assert.deepEqual([...fit.suspects], flipped, `seed ${seed}`);
    for (const row of flipped) assert.ok(fit.quality[row]! < 0.3, `row ${row} quality ${fit.quality[row]}`);
    for (const q of fit.quality) assert.ok(q >= 0 && q <= 1);
  }
});

test('the same seed gives the same out-of-fold probabilities and model', () => {
  const { matrix, codes } = clusters(20, 2);
  const a = fitLabelModel(matrix, codes, ['a', 'b', 'c'], { seed: 9 });
  const b = fitLabelModel(matrix, codes, ['a', 'b', 'c'], { seed: 9 });
  assert.deepEqual(a.outOfFold, b.outOfFold);
  assert.deepEqual(labelModelToJson(a.model!), labelModelToJson(b.model!));
  const c = fitLabelModel(matrix, codes, ['a', 'b', 'c'], { seed: 10 });
  assert.notDeepEqual(a.outOfFold, c.outOfFold);
});

test('streaming: a model fitted on trusted rows flags the flipped rows of a new batch', () => {
  const trusted = clusters(40, 3);
  const fit = fitLabelModel(trusted.matrix, trusted.codes, ['a', 'b', 'c'], { seed: 1 });
  const scan = clusters(30, 4);
  const { noisy, flipped } = flipTenPercent(scan.codes, 30);
  const probabilities = predictLabelProbabilities(fit.model!, scan.matrix);
  assert.equal(probabilities.length, 90 * 3);
  const issues = findLabelIssues(probabilities, noisy, batchThresholds(probabilities, noisy, fit.model!.thresholds));
  assert.deepEqual([...issues.suspects], flipped);
  assert.deepEqual(
    flipped.map((r) => issues.suggested[r]),
    flipped.map((r) => scan.codes[r]),
  );
});

test('categorical features: a colour that decides the class', () => {
  const colours = ['red', 'green', 'blue'];
  const random = new Random(5);
  const colour: string[] = [];
  const noise: number[] = [];
  const label: string[] = [];
  for (let i = 0; i < 90; i++) {
    colour.push(colours[i % 3]!);
    noise.push(random.nextFloat());
    label.push(['stop', 'go', 'wait'][i % 3]!);
  }
  label[10] = 'stop'; // row 10 is green: should be 'go'
  label[50] = 'go'; // row 50 is blue: should be 'wait'
  const b = batch([strings('colour', colour), numeric('noise', noise), strings('label', label)]);
  const encoder = fitFeatureEncoder([b.byName.get('colour')!, b.byName.get('noise')!]);
  const matrix = encodeFeatures(encoder, b, 'standardised');
  const { classes, codes } = encodeLabels(b.byName.get('label')!);
  assert.deepEqual(classes, ['go', 'stop', 'wait']);
  const fit = fitLabelModel(matrix, codes, classes, { seed: 2 });
  assert.deepEqual([...fit.suspects], [10, 50]);
});

test('inputs the detector cannot use: skipped with a clear reason, no NaN', () => {
  const { matrix } = clusters(5, 1);
  const cases: [FeatureMatrix, Int32Array, string[], RegExp][] = [
    [matrix, new Int32Array(15).fill(0), ['a', 'b'], /one class \('a'\) in 15 labelled rows/],
    [matrix, new Int32Array(15).fill(-1), ['a', 'b'], /no usable value/],
    [matrixFromRows([[1], [2], [3]]), Int32Array.from([0, 1, 0]), ['a', 'b'], /3 labelled rows are fewer than the 5 folds/],
    [{ rows: 15, cols: 0, data: new Float64Array(0), names: [] }, Int32Array.from({ length: 15 }, (_, i) => i % 2), ['a', 'b'], /no usable feature/],
  ];
  for (const [m, codes, classes, reason] of cases) {
    const fit = fitLabelModel(m, codes, classes);
    assert.equal(fit.model, null);
    assert.match(fit.skipped!, reason);
    assert.deepEqual([...fit.suspects], []);
    for (const q of fit.quality) assert.equal(q, -1);
  }
  assert.throws(() => fitLabelModel(matrix, new Int32Array(15), ['a', 'b'], { folds: 1 }), InputError);
});

test('rows without a label are left out of fitting and never flagged', () => {
  const { matrix, codes } = clusters(20, 6);
  const partial = Int32Array.from(codes);
  partial[0] = -1;
  partial[30] = -1;
  const fit = fitLabelModel(matrix, partial, ['a', 'b', 'c'], { seed: 1 });
  assert.equal(fit.quality[0], -1);
  assert.equal(fit.quality[30], -1);
  assert.deepEqual([...fit.suspects], []);
  assert.deepEqual(fit.model!.classCounts, [19, 19, 20]);
  for (const v of fit.outOfFold) assert.ok(Number.isFinite(v));
});

test('batch thresholds: the batch mean per class, shrunk toward the baseline by prior rows', () => {
  const p = Float64Array.from([0.9, 0.1, 0.5, 0.5, 0.3, 0.7]);
  const codes = Int32Array.from([0, 0, 1]);
  assert.deepEqual(batchThresholds(p, codes, [0.8, 0.6], 2), [(2 * 0.8 + 0.9 + 0.5) / 4, (2 * 0.6 + 0.7) / 3]);
  assert.deepEqual(batchThresholds(p, codes, [0.8, 0.6], 0), [0.7, 0.7]);
  assert.deepEqual(batchThresholds(p, Int32Array.from([-1, -1, -1]), [0.8, 0.6]), [0.8, 0.6]);
});

test('out-of-fold probabilities replace exactly the listed rows that fall in the batch', () => {
  // Listed input rows 2, 5, 9 and 10, two classes each; a batch of input rows 4..9.
  const outOfFold = { rows: Float64Array.from([2, 5, 9, 10]), probabilities: Float64Array.from([0.2, 0.8, 0.5, 0.5, 0.9, 0.1, 0.3, 0.7]) };
  const cases: { rowOffset: number; rowCount: number; replaced: number; expected: number[] }[] = [
    // Batch rows 1 (input 5) and 5 (input 9) take the listed values; the rest keep 0.6 / 0.4.
    { rowOffset: 4, rowCount: 6, replaced: 2, expected: [0.6, 0.4, 0.5, 0.5, 0.6, 0.4, 0.6, 0.4, 0.6, 0.4, 0.9, 0.1] },
    { rowOffset: 0, rowCount: 3, replaced: 1, expected: [0.6, 0.4, 0.6, 0.4, 0.2, 0.8] },
    { rowOffset: 10, rowCount: 1, replaced: 1, expected: [0.3, 0.7] },
    { rowOffset: 11, rowCount: 2, replaced: 0, expected: [0.6, 0.4, 0.6, 0.4] },
    { rowOffset: 6, rowCount: 3, replaced: 0, expected: [0.6, 0.4, 0.6, 0.4, 0.6, 0.4] },
  ];
  for (const { rowOffset, rowCount, replaced, expected } of cases) {
    const probabilities = Float64Array.from({ length: rowCount * 2 }, (_, i) => (i % 2 === 0 ? 0.6 : 0.4));
    assert.equal(useOutOfFold(probabilities, rowOffset, rowCount, outOfFold), replaced, `rows ${rowOffset}+${rowCount}`);
    assert.deepEqual([...probabilities], expected, `rows ${rowOffset}+${rowCount}`);
  }
});

test('encodeLabels: sorted classes by default, -1 for missing and unknown values', () => {
  const column = strings('y', ['b', null, 'a', 'b', 'z']);
  assert.deepEqual(encodeLabels(column), { classes: ['a', 'b', 'z'], codes: Int32Array.from([1, -1, 0, 1, 2]) });
  assert.deepEqual([...encodeLabels(column, ['a', 'b']).codes], [1, -1, 0, 1, -1]);
  assert.deepEqual(encodeLabels(numeric('y', [1, 0, 1], 'int')).classes, ['0', '1']);
});

test('stratified folds spread every class over the folds', () => {
  const codes = Int32Array.from({ length: 50 }, (_, i) => (i < 40 ? 0 : 1));
  const fold = stratifiedFolds(codes, 2, 5, 3);
  for (let f = 0; f < 5; f++) {
    assert.equal([...fold].filter((x, i) => x === f && codes[i] === 0).length, 8);
    assert.equal([...fold].filter((x, i) => x === f && codes[i] === 1).length, 2);
  }
});

test('class balance: counts add across batches; shift measured against the baseline', () => {
  const counts = new Float64Array(3);
  const labels = strings('y', ['a', 'a', 'b', 'x', null]);
  countLabels(encodeLabels(labels, ['a', 'b']).codes, labels, counts);
  countLabels(Int32Array.from([1, 1]), null, counts);
  assert.deepEqual([...counts], [2, 3, 1]);
  const shift = classBalanceShift(['a', 'b'], [75, 25], counts);
  assert.equal(shift.totalVariation, 0.35);
  assert.equal(shift.maxShift, 0.35);
  assert.equal(shift.mostShifted, 'a');
  assert.equal(shift.unknownShare, 1 / 6);
  assert.equal(shift.observedRows, 6);
  assert.deepEqual(classBalanceShift(['a', 'b'], [1, 1], new Float64Array(3)).totalVariation, 0);
});

test('the JSON form round-trips and rejects damage', () => {
  const { matrix, codes } = clusters(15, 7);
  const model = fitLabelModel(matrix, codes, ['a', 'b', 'c'], { seed: 1 }).model!;
  const json = JSON.parse(JSON.stringify(labelModelToJson(model)));
  const copy = labelModelFromJson(json);
  assert.deepEqual(predictLabelProbabilities(copy, matrix), predictLabelProbabilities(model, matrix));
  const cases: [unknown, RegExp][] = [
    [{ ...json, classes: ['a'] }, /at least 2 class names/],
    [{ ...json, thresholds: [0.5] }, /thresholds must be an array of 3/],
    [{ ...json, logistic: { weights: 'AAAA' } }, /weights is not a whole number|weights has/],
    [{ ...json, trees: { ...json.trees, trees: 0 } }, /trees.trees must be a positive integer/],
    [{ ...json, trees: { ...json.trees, leftChild: Buffer.from(new Int32Array(model.trees.leftChild.length).fill(99_999).buffer).toString('base64') } }, /leaf 99999|out of range/],
    [{ ...json, outOfFold: { rows: base64([3, 1]), probabilities: base64([0.5, 0.5, 0, 0.5, 0.5, 0]) } }, /outOfFold.rows must be ascending row numbers/],
    [{ ...json, outOfFold: { rows: base64([1, 3]), probabilities: base64([0.5, 0.5, 0]) } }, /outOfFold.probabilities has 3 values, expected 6/],
    [{ ...json, outOfFold: { rows: base64([1, 3]), probabilities: base64([0.5, 0.5, 0, 0.5, 1.5, 0]) } }, /outOfFold.probabilities must lie in \[0, 1\]/],
  ];
  for (const [input, message] of cases) assert.throws(() => labelModelFromJson(input), (e: unknown) => e instanceof InputError && message.test(e.message), String(message));
  // Out-of-fold probabilities by input row travel with the model when it has them.
  const withRows = { ...model, outOfFold: { rows: Float64Array.from([1, 3]), probabilities: Float64Array.from([0.5, 0.5, 0, 0.1, 0.2, 0.7]) } };
  assert.equal(labelModelToJson(model).outOfFold, undefined);
  assert.deepEqual(labelModelFromJson(JSON.parse(JSON.stringify(labelModelToJson(withRows)))).outOfFold, withRows.outOfFold);
});

const base64 = (values: number[]) => Buffer.from(Float64Array.from(values).buffer).toString('base64');

test('logistic regression reaches a minimum of its penalised loss', () => {
  const { matrix, codes } = clusters(10, 8);
  // Overlapping classes keep the optimum finite.
  for (let i = 0; i < matrix.rows; i++) matrix.data[i] = matrix.data[i]! / 10;
  const l2 = 0.05;
  const model = fitLogistic(matrix, codes, 3, { l2, tolerance: 1e-10, maxIterations: 1000 });
  const loss = (w: Float64Array) => {
    const p = predictLogistic({ ...model, weights: w }, matrix);
    let sum = 0;
    for (let r = 0; r < matrix.rows; r++) sum -= Math.log(p[r * 3 + codes[r]!]!);
    let penalty = 0;
    for (let k = 0; k < 3; k++) for (let j = 0; j < 2; j++) penalty += w[k * 3 + j]! ** 2;
    return sum / matrix.rows + 0.5 * l2 * penalty;
  };
  const best = loss(model.weights);
  for (let i = 0; i < model.weights.length; i++) {
    for (const step of [1e-3, -1e-3]) {
      const moved = Float64Array.from(model.weights);
      moved[i] = moved[i]! + step;
      assert.ok(loss(moved) >= best - 1e-12, `weight ${i} ${step}`);
    }
  }
  const p = predictLogistic(model, matrix);
  for (let r = 0; r < matrix.rows; r++) assert.ok(Math.abs(p[r * 3]! + p[r * 3 + 1]! + p[r * 3 + 2]! - 1) < 1e-12);
});

test('extra trees: seeded, probabilities sum to 1, training rows recovered with one-row leaves', () => {
  const { matrix, codes } = clusters(25, 9);
  const a = fitExtraTrees(matrix, codes, 3, { seed: 4, trees: 20, minLeaf: 1 });
  const b = fitExtraTrees(matrix, codes, 3, { seed: 4, trees: 20, minLeaf: 1 });
  assert.deepEqual(a, b);
  const p = predictExtraTrees(a, matrix);
  for (let r = 0; r < matrix.rows; r++) {
    const row = [p[r * 3]!, p[r * 3 + 1]!, p[r * 3 + 2]!];
    assert.ok(Math.abs(row[0]! + row[1]! + row[2]! - 1) < 1e-12);
    assert.equal(row.indexOf(Math.max(...row)), codes[r]);
  }
  assert.notDeepEqual(fitExtraTrees(matrix, codes, 3, { seed: 5, trees: 20 }).splitValue, a.splitValue);
});

test('extra trees: each leaf holds the class shares of the fitting rows that reach it, and at least minLeaf of them', () => {
  // One-hot columns (two values; most rows 0), a column constant below a split on the first,
  // and a continuous one: the cases the grower copies, skips or partitions in its own way.
  const random = new Random(3);
  const rows = 600;
  const values = Array.from({ length: rows }, (_, r) => {
    const group = r % 5;
    const oneHot = [0, 1, 2, 3].map((g) => (group === g ? 1 : 0));
    const step = group === 4 ? 0 : Math.floor(random.nextFloat() * 3);
    return [...oneHot, step, random.nextFloat()];
  });
  const codes = Int32Array.from(values, (v, r) => (v[0] === 1 || (v[4]! > 0 && v[5]! > 0.7) ? 1 : r % 11 === 0 ? 2 : 0));
  const matrix = matrixFromRows(values);
  const minLeaf = 3;
  const model = fitExtraTrees(matrix, codes, 3, { seed: 8, trees: 6, minLeaf, maxSamples: rows });
  const { treeStart, splitFeature, splitValue, leftChild, rightChild, leafShares } = model;
  for (let t = 0; t < model.trees; t++) {
    const start = treeStart[t]!;
    const reached = new Map<number, number[]>();
    for (let r = 0; r < rows; r++) {
      let node = start;
      while (splitFeature[node]! >= 0) node = start + (matrix.data[splitFeature[node]! * rows + r]! < splitValue[node]! ? leftChild[node]! : rightChild[node]!);
      reached.set(node, [...(reached.get(node) ?? [0, 0, 0])].map((c, k) => c + (codes[r] === k ? 1 : 0)));
    }
    let leaves = 0;
    for (let node = start; node < treeStart[t + 1]!; node++) if (splitFeature[node]! < 0) leaves++;
    assert.equal(reached.size, leaves, `tree ${t}: every leaf is reached`);
    for (const [node, counts] of reached) {
      const n = counts[0]! + counts[1]! + counts[2]!;
      assert.ok(n >= minLeaf, `tree ${t} leaf ${node}: ${n} rows`);
      const shares = [...leafShares.subarray(leftChild[node]! * 3, leftChild[node]! * 3 + 3)];
      assert.deepEqual(shares, counts.map((c) => c / n), `tree ${t} leaf ${node}`);
    }
  }
});

test('extra trees: grown on a copy of each tree\'s rows or on the table itself, the same trees', () => {
  const random = new Random(21);
  const rows = 900;
  const values = Array.from({ length: rows }, (_, r) => [r % 3 === 0 ? 1 : 0, Math.floor(random.nextFloat() * 5), random.nextFloat(), r % 7 === 0 ? 2 : 0]);
  const codes = Int32Array.from(values, (v) => (v[0] === 1 && v[2]! > 0.3 ? 1 : v[1]! > 2 ? 2 : 0));
  const matrix = matrixFromRows(values);
  for (const maxSamples of [100, 300, 899]) {
    const copied = fitExtraTrees(matrix, codes, 3, { seed: 6, trees: 8, maxSamples, copyRows: true });
    assert.deepEqual(copied, fitExtraTrees(matrix, codes, 3, { seed: 6, trees: 8, maxSamples, copyRows: false }), `maxSamples ${maxSamples}`);
    assert.ok(copied.splitFeature.length > 8 * 5, 'trees that split');
  }
});

/** Class shares by walking the stored trees one row at a time, summed in tree order. */
function walkStoredTrees(model: ExtraTreesModel, matrix: FeatureMatrix): Float64Array {
  const { classes, trees, treeStart, splitFeature, splitValue, leftChild, rightChild, leafShares } = model;
  const out = new Float64Array(matrix.rows * classes);
  for (let t = 0; t < trees; t++) {
    const start = treeStart[t]!;
    for (let r = 0; r < matrix.rows; r++) {
      let node = start;
      while (splitFeature[node]! >= 0) node = start + (matrix.data[splitFeature[node]! * matrix.rows + r]! < splitValue[node]! ? leftChild[node]! : rightChild[node]!);
      for (let k = 0; k < classes; k++) out[r * classes + k] = out[r * classes + k]! + (1 / trees) * leafShares[leftChild[node]! * classes + k]!;
    }
  }
  return out;
}

test('extra trees: the compiled lockstep walk equals walking the stored trees, to the bit, over any row range', () => {
  const random = new Random(12);
  const rows = 2000;
  const values = Array.from({ length: rows }, () => [random.nextFloat() * 10, Math.floor(random.nextFloat() * 4), random.nextFloat() - 0.5]);
  const codes = Int32Array.from(values, (v) => (v[0]! + v[1]! > 6 ? 1 : v[2]! > 0 ? 2 : 0));
  const matrix = matrixFromRows(values);
  // Deep trees (one-row leaves) and a tree that is a single leaf (every row one class).
  const deep = fitExtraTrees(matrix, codes, 3, { seed: 2, trees: 7, minLeaf: 1 });
  const single = fitExtraTrees(matrix, new Int32Array(rows), 3, { seed: 2, trees: 2 });
  assert.equal(single.splitFeature.length, 2);
  // Scored rows hold values beyond the fitted range, ties with split values, and NaN (goes right).
  const probe = matrixFromRows(values.map((v, i) => (i % 97 === 0 ? [Number.NaN, v[1]!, 100] : i % 89 === 0 ? [deep.splitValue[0]!, v[1]!, v[2]!] : v)));
  for (const model of [deep, single]) {
    const expected = walkStoredTrees(model, probe);
    assert.deepEqual(predictExtraTrees(model, probe), expected);
    // A range of rows (as a scoring thread takes one) gives the same numbers for those rows.
    const part = new Float64Array((1500 - 13) * model.classes);
    walkTrees(compileTrees(model), probe.data, probe.rows, 13, 1500, part);
    assert.deepEqual(part, expected.subarray(13 * model.classes, 1500 * model.classes));
  }
});
