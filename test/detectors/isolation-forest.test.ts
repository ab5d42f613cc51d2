import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../../src/core/errors.js';
import { Random } from '../../src/core/random.js';
import { matrixFromRows, type FeatureMatrix } from '../../src/detectors/features.js';
import {
  averagePathLength,
  fitIsolationForest,
  forestFromJson,
  forestToJson,
  meanPathLengths,
  scoreIsolationForest,
  scoreQuantile,
  thresholdFromContamination,
  thresholdFromQuantile,
  type IsolationForest,
} from '../../src/detectors/isolation-forest.js';
import { scoreIsolationForestParallel } from '../../src/detectors/threads.js';
import { indicesWhere } from './helpers.js';

function randomMatrix(rows: number, cols: number, seed: number): FeatureMatrix {
  const random = new Random(seed);
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = random.nextFloat();
  return { rows, cols, data, names: Array.from({ length: cols }, (_, c) => `f${c}`) };
}

/** A 10 x 10 grid of ordinary points with two far-off points at rows 37 and 81. */
function gridWithOutliers(): FeatureMatrix {
  const rows: number[][] = [];
  for (let i = 0; i < 100; i++) rows.push([i % 10, Math.floor(i / 10)]);
  rows[37] = [60, -40];
  rows[81] = [-35, 55];
  return matrixFromRows(rows);
}

/** Walks the stored trees node by node, the textbook way, for comparison with the compiled scorer. */
function referencePathLengths(forest: IsolationForest, m: FeatureMatrix): number[] {
  const out: number[] = [];
  for (let r = 0; r < m.rows; r++) {
    let sum = 0;
    for (let t = 0; t < forest.trees; t++) {
      const start = forest.treeStart[t]!;
      let node = 0;
      let depth = 0;
      while (forest.splitFeature[start + node]! >= 0) {
        const f = forest.splitFeature[start + node]!;
        node = m.data[f * m.rows + r]! < forest.splitValue[start + node]! ? forest.leftChild[start + node]! : forest.rightChild[start + node]!;
        depth++;
      }
      sum += depth + averagePathLength(forest.leafSize[start + node]!);
    }
    out.push(sum / forest.trees);
  }
  return out;
}

test('c(n), the average path length of an unsuccessful search', () => {
  const gamma = 0.5772156649015329;
  const cases: [number, number][] = [
    [0, 0],
    [1, 0],
    [2, 1],
    [3, 2 * (Math.log(2) + gamma) - 4 / 3],
    [256, 2 * (Math.log(255) + gamma) - 510 / 256],
  ];
  for (const [n, expected] of cases) assert.equal(averagePathLength(n), expected, `c(${n})`);
  assert.ok(Math.abs(averagePathLength(256) - 10.244770920119917) < 1e-12);
});

test('the two far-off points get the two highest scores, and contamination 2% flags exactly them', () => {
  const m = gridWithOutliers();
  for (const seed of [1, 2, 3]) {
    const forest = fitIsolationForest(m, { seed });
    const scores = scoreIsolationForest(forest, m);
    const threshold = thresholdFromContamination(scores, 0.02);
    assert.deepEqual(indicesWhere(scores, (s) => s > threshold), [37, 81], `seed ${seed}`);
    assert.ok(scores[37]! > 0.6 && scores[81]! > 0.6, `seed ${seed}: ${scores[37]} ${scores[81]}`);
  }
});

test('same data and seed give the same forest and scores; another seed another forest', () => {
  const m = randomMatrix(2000, 5, 1);
  const a = fitIsolationForest(m, { seed: 17 });
  const b = fitIsolationForest(m, { seed: 17 });
  assert.deepEqual(forestToJson(a), forestToJson(b));
  assert.deepEqual(scoreIsolationForest(a, m), scoreIsolationForest(b, m));
  const c = fitIsolationForest(m, { seed: 18 });
  assert.notDeepEqual(forestToJson(a).splitValue, forestToJson(c).splitValue);
});

test('trees follow the paper: psi rows each, height at most ceil(log2 psi)', () => {
  const cases: [rows: number, sampleSize: number | undefined, psi: number, height: number][] = [
    [1000, undefined, 256, 8],
    [1000, 64, 64, 6],
    [100, undefined, 100, 7],
    [2, undefined, 2, 1],
  ];
  for (const [rows, sampleSize, psi, height] of cases) {
    const forest = fitIsolationForest(randomMatrix(rows, 3, rows), { seed: 1, trees: 20, sampleSize });
    assert.equal(forest.sampleSize, psi);
    assert.equal(forest.heightLimit, height);
    for (let t = 0; t < forest.trees; t++) {
      let leafRows = 0;
      for (let n = forest.treeStart[t]!; n < forest.treeStart[t + 1]!; n++) if (forest.splitFeature[n]! < 0) leafRows += forest.leafSize[n]!;
      assert.equal(leafRows, psi, `tree ${t}: leaves hold every subsampled row once`);
    }
    // Round-tripping runs the structural validation, including the depth limit.
    forestFromJson(JSON.parse(JSON.stringify(forestToJson(forest))));
  }
});

test('the compiled scorer equals walking the stored trees', () => {
  const cases: [rows: number, cols: number, sampleSize: number][] = [
    [3000, 4, 256],
    [500, 7, 100],
    [37, 2, 256],
  ];
  for (const [rows, cols, sampleSize] of cases) {
    const m = randomMatrix(rows, cols, rows + cols);
    // Integer-valued copies of some columns create ties and constant nodes.
    for (let i = 0; i < rows; i++) m.data[i] = Math.floor(m.data[i]! * 3);
    const forest = fitIsolationForest(m, { seed: 5, sampleSize });
    const expected = referencePathLengths(forest, m);
    const actual = [...meanPathLengths(forest, m)];
    actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-9, `row ${i}: ${v} vs ${expected[i]}`));
  }
});

test('identical rows: one leaf holding every row, a finite score for all', () => {
  const m = matrixFromRows(Array.from({ length: 50 }, () => [1, 2, 3]));
  const forest = fitIsolationForest(m, { seed: 1, trees: 10 });
  const scores = scoreIsolationForest(forest, m);
  // Every tree is a single leaf of 50 rows: E(h) = c(50), so the score is exactly 2^-1.
  assert.deepEqual([...scores], new Array(50).fill(0.5));
});

test('scores are finite and in (0, 1]', () => {
  const m = randomMatrix(5000, 3, 99);
  const scores = scoreIsolationForest(fitIsolationForest(m, { seed: 3 }), m);
  for (const s of scores) assert.ok(s > 0 && s <= 1);
});

test('the parallel scorer returns exactly the single-threaded scores', async () => {
  const m = randomMatrix(250_000, 4, 4);
  const forest = fitIsolationForest(m, { seed: 8, trees: 20 });
  const single = scoreIsolationForest(forest, m);
  const parallel = await scoreIsolationForestParallel(forest, m, { threads: 1 });
  assert.deepEqual(parallel, single);
});

test('thresholds: quantile of the baseline scores and a contamination rate', () => {
  const scores = Float64Array.from({ length: 1000 }, (_, i) => i / 1000);
  assert.equal(thresholdFromQuantile(scores), 0.994);
  assert.equal(thresholdFromQuantile(scores, 0.9), 0.899);
  assert.equal(thresholdFromContamination(scores, 0.01), 0.989);
  assert.equal(scoreQuantile(Float64Array.of(3, 1, 2), 1), 3);
  assert.equal(scoreQuantile(Float64Array.of(3, 1, 2), 0), 1);
  assert.equal(indicesWhere(scores, (s) => s > thresholdFromQuantile(scores)).length, 5);
  assert.throws(() => thresholdFromContamination(scores, 0), InputError);
  assert.throws(() => thresholdFromQuantile(scores, 1.5), InputError);
  assert.throws(() => thresholdFromQuantile(new Float64Array(0)), InputError);
});

test('the JSON form round-trips to the same scores', () => {
  const m = randomMatrix(1000, 3, 12);
  const forest = fitIsolationForest(m, { seed: 4, trees: 30 });
  const text = JSON.stringify(forestToJson(forest));
  const copy = forestFromJson(JSON.parse(text));
  assert.deepEqual(scoreIsolationForest(copy, m), scoreIsolationForest(forest, m));
});

test('a damaged forest is rejected with a message naming the problem', () => {
  const forest = fitIsolationForest(randomMatrix(300, 2, 1), { seed: 1, trees: 3 });
  const good = forestToJson(forest);
  const leftChild = Int32Array.from(forest.leftChild);
  leftChild[0] = 999_999;
  const feature = Int32Array.from(forest.splitFeature);
  feature[0] = 7;
  const cases: [unknown, RegExp][] = [
    [null, /must be an object/],
    [{ ...good, trees: -1 }, /trees must be a non-negative integer/],
    [{ ...good, heightLimit: 3 }, /heightLimit does not match/],
    [{ ...good, splitValue: 12 }, /splitValue must be a base64 string/],
    [{ ...good, leafSize: Buffer.from([1, 2, 3]).toString('base64') }, /leafSize is not a whole number/],
    [{ ...good, rightChild: Buffer.from(new Int32Array(2).buffer).toString('base64') }, /rightChild has 2 nodes/],
    [{ ...good, leftChild: Buffer.from(leftChild.buffer).toString('base64') }, /child index out of range/],
    [{ ...good, splitFeature: Buffer.from(feature.buffer).toString('base64') }, /splits on feature 7 of 2/],
  ];
  for (const [input, message] of cases) {
    assert.throws(() => forestFromJson(input), (e: unknown) => e instanceof InputError && message.test(e.message), String(message));
  }
});

test('bad fitting input is an input error', () => {
  const cases: [FeatureMatrix, object, RegExp][] = [
    [matrixFromRows([[1]]), {}, /at least 2 rows/],
    [{ rows: 5, cols: 0, data: new Float64Array(0), names: [] }, {}, /at least 1 feature/],
    [randomMatrix(10, 1, 1), { trees: 0 }, /trees must be a positive integer/],
    [randomMatrix(10, 1, 1), { sampleSize: 1 }, /sampleSize must be an integer/],
  ];
  for (const [m, options, message] of cases) {
    assert.throws(() => fitIsolationForest(m, options), (e: unknown) => e instanceof InputError && message.test(e.message));
  }
  const forest = fitIsolationForest(randomMatrix(10, 2, 1), { seed: 1 });
  assert.throws(() => scoreIsolationForest(forest, randomMatrix(10, 3, 1)), /fitted on 2 features, the matrix has 3/);
});
