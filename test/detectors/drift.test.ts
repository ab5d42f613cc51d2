import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../../src/core/errors.js';
import { Random } from '../../src/core/random.js';
import {
  DriftAccumulator,
  driftBaselineFromJson,
  fitDriftBaseline,
  jensenShannonDistance,
  maxShareChange,
  populationStabilityIndex,
} from '../../src/detectors/drift.js';
import { batch, bools, numeric, sliceBatch, strings } from './helpers.js';

function uniform(n: number, seed: number, low = 0, high = 1): number[] {
  const random = new Random(seed);
  return Array.from({ length: n }, () => low + (high - low) * random.nextFloat());
}

test('PSI, JS distance and L-inf on hand-made histograms', () => {
  const cases: [number[], number[], number, number, number][] = [
    // expected, actual, psi (smoothing 0), js, linf
    [[50, 50], [50, 50], 0, 0, 0],
    [[80, 20], [20, 80], 0.6 * Math.log(4) * 2, Math.sqrt(0.8 * Math.log2(1.6) + 0.2 * Math.log2(0.4)), 0.6],
    [[1, 0], [0, 1], Infinity, 1, 1],
  ];
  for (const [e, a, psi, js, linf] of cases) {
    if (Number.isFinite(psi)) assert.ok(Math.abs(populationStabilityIndex(e, a, 0) - psi) < 1e-12, `psi ${e} ${a}`);
    assert.ok(Math.abs(jensenShannonDistance(e, a) - js) < 1e-12, `js ${e} ${a}: ${jensenShannonDistance(e, a)} vs ${js}`);
    assert.ok(Math.abs(maxShareChange(e, a) - linf) < 1e-12);
  }
  // Smoothing keeps an emptied slot finite.
  const smoothed = populationStabilityIndex([1, 0], [0, 1]);
  assert.ok(Number.isFinite(smoothed) && smoothed > 1);
  assert.equal(populationStabilityIndex([0, 0], [1, 1]), 0);
});

test('quantile bins with a null slot; counts add across batches', () => {
  const values = Array.from({ length: 100 }, (_, i) => i);
  const baseline = fitDriftBaseline([numeric('x', values)], { bins: 4 });
  const column = baseline.columns[0]!;
  assert.equal(column.kind, 'numeric');
  assert.deepEqual(column.kind === 'numeric' ? column.edges : [], [25, 50, 75]);
  assert.deepEqual(column.counts, [25, 25, 25, 25, 0]);
  const scan = batch([numeric('x', [-5, 10, 30, 50, 74.9, 1000, null])]);
  const accumulator = new DriftAccumulator(baseline);
  accumulator.add(sliceBatch(scan, 0, 3));
  accumulator.add(sliceBatch(scan, 3, 7));
  assert.deepEqual([...accumulator.counts[0]!], [2, 1, 2, 1, 1]);
});

test('a value holding a tenth of the rows gets a bin of its own: a cost that is mostly zero can drift', () => {
  // 98% zeros, then 40 costs of 1-1,000: plain deciles would all be 0, one bin for every row.
  const costs = (n: number, paid: number, seed: number) => [...Array<number>(n - paid).fill(0), ...uniform(paid, seed, 1, 1000).map(Math.round)];
  const baseline = fitDriftBaseline([numeric('cost', costs(2000, 40, 1))]);
  const fitted = baseline.columns[0]!;
  assert.ok(fitted.kind === 'numeric' && fitted.edges.length === 9, JSON.stringify(fitted));
  // The zeros alone below the first edge, the smallest cost paid.
  assert.deepEqual([fitted.counts[0], fitted.edges[0]], [1960, Math.min(...costs(2000, 40, 1).filter((c) => c > 0))]);
  const judge = (paid: number) => {
    const accumulator = new DriftAccumulator(baseline);
    accumulator.add(batch([numeric('cost', costs(2000, paid, 2))]));
    return accumulator.result()[0]!.severity;
  };
  assert.equal(judge(40), 'ok');
  // A fifth of the rows now carry a cost.
  assert.equal(judge(400), 'fail');
  // Without point masses the edges are the plain deciles, as before.
  const plain = fitDriftBaseline([numeric('x', Array.from({ length: 100 }, (_, i) => i))]).columns[0]!;
  assert.deepEqual(plain.kind === 'numeric' ? plain.edges : [], [10, 20, 30, 40, 50, 60, 70, 80, 90]);
});

test('a numeric column with no more values than bins is compared value by value', () => {
  // Every value 20 times over, so each is expected often enough in the scan to be judged apart.
  const times20 = <T>(values: T[]): T[] => values.flatMap((v) => Array<T>(20).fill(v));
  const baseline = fitDriftBaseline([numeric('children', times20([0, 0, 0, 1, 1, 2, null]), 'int'), numeric('fee', times20([3.5, 3.5, 3.5, 3.5, 3.5, 3.5, 3.5]))], { bins: 4 });
  const [children, fee] = baseline.columns;
  assert.deepEqual(children, { kind: 'categorical', column: 'children', categories: ['0', '1', '2'], counts: [60, 40, 20, 0, 20] });
  assert.deepEqual(fee, { kind: 'categorical', column: 'fee', categories: ['3.5'], counts: [140, 0, 0] });
  const accumulator = new DriftAccumulator(baseline);
  // 7 children was never seen; the fee, one value in the baseline, starts to vary.
  accumulator.add(batch([numeric('children', times20([0, 1, 7, 7, null, 2]), 'int'), numeric('fee', times20([3.5, 2, 4, 4.5, 5, 6]))]));
  assert.deepEqual([...accumulator.counts[0]!], [20, 20, 20, 40, 20]);
  assert.deepEqual([...accumulator.counts[1]!], [20, 100, 0]);
  assert.deepEqual(accumulator.result().map((d) => [d.column, d.severity, d.decidedBy]), [
    ['children', 'fail', 'js'],
    ['fee', 'fail', 'js'],
  ]);
  // More distinct values than bins: quantile bins, as before.
  assert.equal(fitDriftBaseline([numeric('x', [1, 2, 3, 4, 5])], { bins: 4 }).columns[0]!.kind, 'numeric');
});

test('categorical histograms: top categories, one slot for everything else, one for nulls', () => {
  const baseline = fitDriftBaseline([strings('c', ['a', 'a', 'a', 'b', 'b', 'c', null])], { maxCategories: 2 });
  const column = baseline.columns[0]!;
  assert.deepEqual(column.kind === 'categorical' ? column.categories : [], ['a', 'b']);
  assert.deepEqual(column.counts, [3, 2, 1, 1]);
  const accumulator = new DriftAccumulator(baseline);
  accumulator.add(batch([strings('c', ['b', 'z', 'z', null])]));
  assert.deepEqual([...accumulator.counts[0]!], [0, 1, 2, 1]);
  const bool = fitDriftBaseline([bools('flag', [true, false, true])]);
  assert.deepEqual(bool.columns[0]!.counts, [2, 1, 0, 0]);
});

test('verdicts: same distribution ok, shifted numbers and reshuffled categories warn or fail', () => {
  const n = 5000;
  const colours = ['red', 'green', 'blue'];
  const baseline = fitDriftBaseline([numeric('x', uniform(n, 1)), strings('colour', uniform(n, 2).map((u) => colours[Math.floor(u * 3)]!))]);
  const judge = (x: number[], colour: string[]) => {
    const accumulator = new DriftAccumulator(baseline);
    accumulator.add(batch([numeric('x', x), strings('colour', colour)]));
    return accumulator.result().map((d) => [d.column, d.severity, d.decidedBy]);
  };
  const sameColours = uniform(n, 4).map((u) => colours[Math.floor(u * 3)]!);
  assert.deepEqual(judge(uniform(n, 3), sameColours), [
    ['x', 'ok', 'psi'],
    ['colour', 'ok', 'js'],
  ]);
  // Shifting x by a fifth of its range moves about 20% of the mass across bins: PSI around 0.3-0.5.
  assert.deepEqual(judge(uniform(n, 3, 0.2, 1.2), sameColours)[0], ['x', 'fail', 'psi']);
  // A small shift (8% of the range; PSI about 0.18): warn.
  const small = judge(uniform(n, 3, 0.08, 1.08), sameColours)[0];
  assert.deepEqual(small, ['x', 'warn', 'psi']);
  // Red takes 15 points of share from blue: JS about 0.16 (warn) and L-inf 0.15 (warn).
  const reshuffled = uniform(n, 5).map((u) => (u < 0.4833 ? 'red' : u < 0.8167 ? 'green' : 'blue'));
  assert.deepEqual(judge(uniform(n, 3), reshuffled)[1], ['colour', 'warn', 'js']);
  // Half the rows become a new category: fail.
  const novel = sameColours.map((c, i) => (i % 2 === 0 ? 'purple' : c));
  assert.deepEqual(judge(uniform(n, 3), novel)[1], ['colour', 'fail', 'js']);
});

test('L-inf catches a shift between two large categories that JS finds small', () => {
  const sides = (left: number, right: number) => [...Array<string>(left).fill('left'), ...Array<string>(right).fill('right')];
  const baseline = fitDriftBaseline([strings('side', sides(2000, 2000))]);
  const accumulator = new DriftAccumulator(baseline);
  // 50/50 becomes 61/39: L-inf 0.11 (warn), JS distance about 0.094 (below 0.1).
  accumulator.add(batch([strings('side', sides(2440, 1560))]));
  const [drift] = accumulator.result();
  assert.ok(drift!.js < 0.1 && drift!.linf >= 0.1, `js ${drift!.js} linf ${drift!.linf}`);
  assert.deepEqual([drift!.severity, drift!.decidedBy], ['warn', 'linf']);
});

test('categories too rare to be expected 5 times in the scan are judged together: free text does not drift, a rare value that floods in does', () => {
  // Titles: every value once. The baseline keeps its 50 most frequent (each 1 of 2,000 rows).
  const titles = (from: number, n: number) => Array.from({ length: n }, (_, i) => `title ${from + i}`);
  // Genre: 'western' is 0.1% of the baseline, expected once in a 1,000-row scan.
  const genres = (n: number, westerns: number) => Array.from({ length: n }, (_, i) => (i < westerns ? 'western' : i % 2 === 0 ? 'drama' : 'comedy'));
  const baseline = fitDriftBaseline([strings('title', titles(0, 2000)), strings('genre', genres(2000, 2))]);
  const judge = (westerns: number) => {
    const accumulator = new DriftAccumulator(baseline);
    accumulator.add(batch([strings('title', titles(5000, 1000)), strings('genre', genres(1000, westerns))]));
    return accumulator.result().map((d) => [d.column, d.severity]);
  };
  // Judged apart, the 50 kept titles (2.5% of the baseline, none in the scan) gave a JS distance of 0.11: warn.
  assert.deepEqual(judge(1), [['title', 'ok'], ['genre', 'ok']]);
  assert.deepEqual(judge(300), [['title', 'ok'], ['genre', 'fail']]);
});

test('a statistic past its limit counts only beyond chance: 150 rows from the same distribution stay ok, the same shift at 5,000 rows warns', () => {
  const baseline = fitDriftBaseline([numeric('x', uniform(250, 1))]);
  // Ten bins, 150 rows against 250: a third of such scans (seeds 10-209) reach a PSI of 0.1 by
  // chance alone, and warned before the test of chance. Seed 16 gives 0.13.
  const small = new DriftAccumulator(baseline);
  small.add(batch([numeric('x', uniform(150, 16))]));
  const [chance] = small.result();
  assert.ok(chance!.psi >= 0.1 && chance!.pValue > 0.01, `psi ${chance!.psi} p ${chance!.pValue}`);
  assert.deepEqual([chance!.severity, chance!.withinChance], ['ok', true]);
  // A real shift of the same size, on enough rows to tell: warn.
  const large = fitDriftBaseline([numeric('x', uniform(5000, 1))]);
  const shifted = new DriftAccumulator(large);
  shifted.add(batch([numeric('x', uniform(5000, 3, 0.08, 1.08))]));
  const [real] = shifted.result();
  assert.ok(real!.psi >= 0.1 && real!.pValue < 1e-6, `psi ${real!.psi} p ${real!.pValue}`);
  assert.deepEqual([real!.severity, real!.withinChance], ['warn', false]);
  // The chance allowed is split over the columns judged: alpha 0.9 lets the small scan's PSI warn.
  assert.equal(small.result({ alpha: 0.9 })[0]!.severity, 'warn');
});

test('thresholds are configurable; too few rows give no verdict', () => {
  const baseline = fitDriftBaseline([numeric('x', uniform(2000, 1))]);
  const accumulator = new DriftAccumulator(baseline);
  accumulator.add(batch([numeric('x', uniform(2000, 2, 0.08, 1.08))]));
  assert.equal(accumulator.result()[0]!.severity, 'warn');
  assert.equal(accumulator.result({ psi: { warn: 0.5, fail: 0.9 } })[0]!.severity, 'ok');
  assert.equal(accumulator.result({ psi: { warn: 0.01, fail: 0.02 } })[0]!.severity, 'fail');
  const few = new DriftAccumulator(baseline);
  few.add(batch([numeric('x', [5, 6, 7])]));
  assert.equal(few.result()[0]!.severity, null);
  for (const v of [few.result()[0]!.psi, few.result()[0]!.js, few.result()[0]!.linf]) assert.ok(Number.isFinite(v));
});

test('accumulators merge: a dataset split across workers folds into the same result', () => {
  const baseline = fitDriftBaseline([numeric('x', uniform(1000, 1)), strings('s', uniform(1000, 2).map((u) => (u < 0.5 ? 'a' : 'b')))]);
  const scan = batch([numeric('x', uniform(900, 3, 0.1, 1.1)), strings('s', uniform(900, 4).map((u) => (u < 0.3 ? 'a' : 'b')))]);
  const whole = new DriftAccumulator(baseline);
  whole.add(scan);
  const parts = [0, 250, 600, 900].slice(0, -1).map((start, i, starts) => {
    const accumulator = new DriftAccumulator(baseline);
    accumulator.add(sliceBatch(scan, start, [250, 600, 900][i]!));
    return accumulator;
  });
  const merged = new DriftAccumulator(baseline);
  for (const part of parts) merged.merge(DriftAccumulator.fromJson(baseline, JSON.parse(JSON.stringify(part.toJson()))));
  assert.deepEqual(merged.result(), whole.result());
  assert.throws(() => merged.merge(new DriftAccumulator(fitDriftBaseline([numeric('x', [1, 2, 3])], { bins: 2 }))), InputError);
});

test('the baseline survives JSON and damaged baselines are rejected', () => {
  const baseline = fitDriftBaseline([numeric('x', uniform(100, 1)), strings('s', ['a', 'b'].flatMap((v) => Array(50).fill(v)))]);
  const copy = driftBaselineFromJson(JSON.parse(JSON.stringify(baseline)));
  assert.deepEqual(copy, baseline);
  const cases: [unknown, RegExp][] = [
    [{ ...baseline, version: 2 }, /version must be 1/],
    [{ ...baseline, columns: [{ kind: 'numeric', column: 'x', edges: [2, 1], counts: [1, 1, 1, 0] }] }, /edges must be ascending/],
    [{ ...baseline, columns: [{ kind: 'categorical', column: 's', categories: ['a'], counts: [1] }] }, /categories and counts do not match/],
    [{ ...baseline, columns: [{ kind: 'other', column: 'q' }] }, /kind must be/],
  ];
  for (const [input, message] of cases) assert.throws(() => driftBaselineFromJson(input), (e: unknown) => e instanceof InputError && message.test(e.message));
});
