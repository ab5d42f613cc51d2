import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CheckContext, CheckDefinition, CheckEnd, InputShape, RowFlags } from '../../src/core/check.js';
import type { Contract } from '../../src/core/contract.js';
import type { Batch, DatasetFinding } from '../../src/core/types.js';
import { driftCheck } from '../../src/checks/drift.js';
import { labelFlipCheck } from '../../src/checks/label-flip.js';
import { outlierCheck } from '../../src/checks/outlier.js';
import { triggerCheck } from '../../src/checks/trigger.js';
import { fitModel, serialiseModel, type ModelBundle } from '../../src/detectors/bundle.js';
import { CONTRACT, sample } from './fixtures.js';
import { indicesWhere, sliceBatch } from './helpers.js';
import { encodeFeatures } from '../../src/detectors/features.js';
import { scoreIsolationForest } from '../../src/detectors/isolation-forest.js';

function shapeOf(data: Batch): InputShape {
  return { path: 'test', format: 'test', columns: data.columns.map((c) => ({ name: c.name, type: c.type, sourceType: 'test' })), declaredRows: data.rowCount };
}

interface Run {
  readonly begin: readonly DatasetFinding[];
  /** Rows flagged during the scan (global indices), by reason code. */
  readonly flagged: Map<string, number[]>;
  readonly end: CheckEnd;
}

/** Runs a check as the scan does: one runner per row range, batches of `batchRows`, then finish(). */
function runCheck(check: CheckDefinition, data: Batch, model: unknown, ranges: [number, number][] = [[0, data.rowCount]], batchRows = 250, contract: Contract = CONTRACT): Run {
  const flagged = new Map<string, number[]>();
  const states: unknown[] = [];
  let begin: readonly DatasetFinding[] = [];
  for (const [start, end] of ranges) {
    const context: CheckContext = { contract, input: shapeOf(data), seed: 1, model, partial: ranges.length > 1 };
    begin = check.begin?.(context) ?? [];
    const runner = check.create(context);
    for (let from = start; from < end; from += batchRows) {
      const part = sliceBatch(data, from, Math.min(end, from + batchRows));
      const codes: string[] = [];
      const flags: RowFlags = {
        reason(code) {
          codes.push(code);
          return codes.length - 1;
        },
        flag(row, reasonId) {
          const code = codes[reasonId]!;
          flagged.set(code, [...(flagged.get(code) ?? []), part.rowOffset + row]);
        },
      };
      runner.run(part, flags);
    }
    states.push(runner.state?.());
  }
  const end = check.finish?.(states, { contract, input: shapeOf(data), seed: 1, model }) ?? {};
  return { begin, flagged, end };
}

let cached: ModelBundle | undefined;
function model(): ModelBundle {
  cached ??= fitModel(sample(2000, 1), CONTRACT, { seed: 3, createdAt: '2024-01-01T00:00:00.000Z' });
  return cached;
}

function setNumber(data: Batch, column: string, rows: readonly number[], value: number): void {
  const values = data.byName.get(column)!.values as Float64Array;
  for (const r of rows) values[r] = value;
}

function setString(data: Batch, column: string, rows: readonly number[], value: string): void {
  const values = data.byName.get(column)!.values as string[];
  for (const r of rows) values[r] = value;
}

test('outlier: flags exactly the rows scoring above the threshold, far-off rows among them', () => {
  const data = sample(1000, 2);
  const outliers = [17, 444, 901];
  // Beyond every trusted value, with a colour never seen. (Trees split only inside the trusted
  // sample's range, so a point past one cluster's edge shares that edge's leaf: the unseen colour,
  // encoded as frequency 0, is what isolates these rows early.)
  setNumber(data, 'size', outliers, 400);
  setNumber(data, 'weight', outliers, 300);
  setString(data, 'colour', outliers, 'ultraviolet');
  const bundle = model();
  const scores = scoreIsolationForest(bundle.outlier!.forest, encodeFeatures(bundle.encoder, data, 'raw'));
  for (const contract of [CONTRACT, { ...CONTRACT, detectors: { outlier: { contamination: 0.05 } } }]) {
    const run = runCheck(outlierCheck, data, bundle, [[0, 1000]], 300, contract);
    const threshold = run.end.summary!.threshold as number;
    assert.deepEqual(run.begin, []);
    assert.deepEqual(run.flagged.get('outlier'), indicesWhere(scores, (s) => s > threshold));
    for (const r of outliers) assert.ok(run.flagged.get('outlier')!.includes(r), `row ${r}`);
  }
  // The default threshold is the fitted one (baseline quantile 0.995); contamination 0.05 moves it down.
  assert.equal(runCheck(outlierCheck, data, bundle).end.summary!.threshold, bundle.outlier!.threshold);
  const moved = runCheck(outlierCheck, data, bundle, [[0, 1000]], 300, { ...CONTRACT, detectors: { outlier: { contamination: 0.05 } } });
  assert.equal(moved.end.summary!.threshold, bundle.outlier!.scoreQuantiles[950]);
});

test('label_flip: flipped labels in a scan are flagged, exactly, whatever the row ranges', () => {
  const data = sample(1000, 5);
  const labels = data.byName.get('kind')!.values as string[];
  const flipped = Array.from({ length: 50 }, (_, k) => k * 20 + 7);
  for (const r of flipped) labels[r] = labels[r] === 'a' ? 'b' : 'a';
  const whole = runCheck(labelFlipCheck, data, model());
  assert.deepEqual(whole.flagged.get('label_flip'), flipped);
  const split = runCheck(labelFlipCheck, data, model(), [
    [0, 500],
    [500, 1000],
  ]);
  assert.deepEqual(split.flagged.get('label_flip'), flipped);
  assert.deepEqual(whole.end.findings, []);
});

/**
 * `n` sampled rows with `moved` of their b rows turned into real a rows (features moved too, so
 * the labels fit): the class balance moves, and no label looks flipped.
 */
function shiftedBalance(n: number, moved: number): Batch {
  const data = sample(n, 6);
  const labels = data.byName.get('kind')!.values as string[];
  const sizes = data.byName.get('size')!.values as Float64Array;
  const weights = data.byName.get('weight')!.values as Float64Array;
  for (let r = 0, done = 0; r < n && done < moved; r++) {
    if (labels[r] !== 'b') continue;
    labels[r] = 'a';
    sizes[r] = sizes[r]! - 10;
    weights[r] = weights[r]! - 50;
    done++;
  }
  return data;
}

test('label_flip: a shifted class balance is a dataset finding, when more than chance at its size', () => {
  // The baseline is half a, half b (2,000 rows).
  const cases: { rows: number; moved: number; severity: string | null }[] = [
    // 300 of 1,000 rows moved: total variation 0.295, fail.
    { rows: 1000, moved: 300, severity: 'fail' },
    // 0.114 on 400 rows (chi-square p 3e-5): warn.
    { rows: 400, moved: 60, severity: 'warn' },
    // 0.124 on 40 rows: one scan in eight of unchanged data moves that far (p 0.12), no finding.
    { rows: 40, moved: 5, severity: null },
  ];
  for (const c of cases) {
    const run = runCheck(labelFlipCheck, shiftedBalance(c.rows, c.moved), model());
    const shift = (run.end.summary as { classBalance: { totalVariation: number; pValue: number } }).classBalance;
    const finding = run.end.findings!.find((f) => f.code === 'label_flip:class_balance');
    assert.equal(finding?.severity ?? null, c.severity, `${c.rows} rows: ${JSON.stringify(shift)}`);
    if (c.severity === null) assert.ok(shift.totalVariation >= 0.1, `${c.rows} rows: total variation ${shift.totalVariation}`);
  }
});

/** Rows the end's flagRows flags when every batch is routed again, by reason code. */
function routedFlags(end: CheckEnd, data: Batch, batchRows = 250): [string, number[]][] {
  const found = new Map<string, number[]>();
  for (let from = 0; from < data.rowCount; from += batchRows) {
    const part = sliceBatch(data, from, Math.min(data.rowCount, from + batchRows));
    const codes: string[] = [];
    end.flagRows?.(part, {
      reason(code) {
        codes.push(code);
        return codes.length - 1;
      },
      flag(row, reasonId) {
        found.set(codes[reasonId]!, [...(found.get(codes[reasonId]!) ?? []), part.rowOffset + row]);
      },
    });
  }
  return [...found];
}

test('trigger: the backdoor rows are flagged in the routing pass with the trigger reason, across ranges', () => {
  const data = sample(3000, 7);
  const poisoned = Array.from({ length: 60 }, (_, k) => k * 50 + 11);
  setString(data, 'colour', poisoned, 'ultraviolet');
  setString(data, 'kind', poisoned, 'a');
  for (const ranges of [
    [[0, 3000]],
    [
      [0, 1000],
      [1000, 3000],
    ],
  ] as [number, number][][]) {
    const run = runCheck(triggerCheck, data, model(), ranges, 500);
    assert.equal(run.flagged.size, 0);
    assert.deepEqual(routedFlags(run.end, data), [['trigger:colour=ultraviolet', poisoned]]);
    assert.equal(run.end.findings![0]!.code, 'trigger:found');
  }
  const clean = sample(3000, 8);
  assert.deepEqual(routedFlags(runCheck(triggerCheck, clean, model()).end, clean), []);
});

test('drift: a moved column is a dataset finding with its statistic, no rows flagged', () => {
  const data = sample(2000, 9);
  const sizes = data.byName.get('size')!.values as Float64Array;
  for (let r = 0; r < sizes.length; r++) sizes[r] = sizes[r]! + 3;
  const run = runCheck(driftCheck, data, model(), [
    [0, 1200],
    [1200, 2000],
  ]);
  assert.equal(run.flagged.size, 0);
  assert.deepEqual(
    run.end.findings!.map((f) => [f.code, f.severity]),
    [['drift:size', 'fail']],
  );
  assert.match(run.end.findings![0]!.message, /PSI \d+\.\d{3} \(warn 0\.1, fail 0\.25\)/);
  assert.deepEqual(runCheck(driftCheck, sample(2000, 10), model()).end.findings, []);
});

test('without a model, or with columns missing, each detector reports why it is skipped', () => {
  const data = sample(100, 11);
  for (const check of [outlierCheck, labelFlipCheck, triggerCheck, driftCheck]) {
    const run = runCheck(check, data, undefined);
    assert.equal(run.begin.length, 1, check.meta.id);
    assert.equal(run.begin[0]!.code, `${check.meta.id}:skipped`);
    assert.match(run.begin[0]!.message, /no model bundle/);
    assert.equal(run.flagged.size, 0);
  }
  const withoutWeight = { ...data, columns: data.columns.filter((c) => c.name !== 'weight') };
  const run = runCheck(outlierCheck, withoutWeight as Batch, serialiseModel(model()));
  assert.match(run.begin[0]!.message, /lacks column\(s\) the forest was fitted on: weight/);
});
