import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Random } from '../../src/core/random.js';
import { matrixFromRows, type FeatureMatrix } from '../../src/detectors/features.js';
import { compileTrees, fitExtraTrees, type ExtraTreesModel } from '../../src/detectors/extra-trees.js';
import { averagePathLength, compileForest, fitIsolationForest, type IsolationForest } from '../../src/detectors/isolation-forest.js';
import { walkForest, walkTrees } from '../../src/detectors/tree-walks.js';

/** Rows of `cols` values with ties, values outside the fitted range, infinities and NaN. */
function awkwardMatrix(rows: number, cols: number, seed: number): FeatureMatrix {
  const random = new Random(seed);
  return matrixFromRows(Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => {
    if (r % 101 === 3) return Number.NaN;
    if (r % 103 === 5) return c % 2 === 0 ? Infinity : -Infinity;
    if (r % 107 === 7) return 1e6;
    // Few distinct values in column 0: many rows tie with a split value.
    return c === 0 ? Math.floor(random.nextFloat() * 5) : random.nextFloat();
  })));
}

/** Per-row path-length sums walked node by node, trees in order; a row goes left when value < split. */
function storedForestSums(forest: IsolationForest, m: FeatureMatrix, start: number, end: number, initial: Float64Array): Float64Array {
  const out = initial.slice();
  for (let r = start; r < end; r++) {
    for (let t = 0; t < forest.trees; t++) {
      const first = forest.treeStart[t]!;
      let node = 0;
      let depth = 0;
      while (forest.splitFeature[first + node]! >= 0) {
        const x = m.data[forest.splitFeature[first + node]! * m.rows + r]!;
        node = x < forest.splitValue[first + node]! ? forest.leftChild[first + node]! : forest.rightChild[first + node]!;
        depth++;
      }
      out[r - start] = out[r - start]! + (depth + averagePathLength(forest.leafSize[first + node]!));
    }
  }
  return out;
}

/** Per-row class shares walked node by node, trees in order, added to `initial`. */
function storedTreeShares(model: ExtraTreesModel, m: FeatureMatrix, start: number, end: number, initial: Float64Array): Float64Array {
  const { classes: K, trees, treeStart, splitFeature, splitValue, leftChild, rightChild, leafShares } = model;
  const out = initial.slice();
  for (let r = start; r < end; r++) {
    for (let t = 0; t < trees; t++) {
      const first = treeStart[t]!;
      let node = first;
      while (splitFeature[node]! >= 0) {
        node = first + (m.data[splitFeature[node]! * m.rows + r]! < splitValue[node]! ? leftChild[node]! : rightChild[node]!);
      }
      for (let k = 0; k < K; k++) out[(r - start) * K + k] = out[(r - start) * K + k]! + (1 / trees) * leafShares[leftChild[node]! * K + k]!;
    }
  }
  return out;
}

/** Rows in 0..2100: single rows, lockstep and block edges, and ranges that start mid-matrix. */
const RANGES: [start: number, end: number][] = [
  [0, 1], [0, 7], [0, 8], [0, 9], [5, 12], [0, 1023], [0, 1024], [0, 1025], [1000, 2049], [13, 2100], [2099, 2100],
];

/** Sums already in `out` are added to, not replaced: start from something other than zero. */
function startingValues(length: number, width = 1): Float64Array {
  return Float64Array.from({ length: length * width }, (_, i) => (i % 3) * 0.25);
}

test('walkForest adds exactly the stored trees\' path lengths, for any row range', () => {
  const fitted = awkwardMatrix(600, 4, 1);
  const forest = fitIsolationForest(matrixFromRows(Array.from({ length: fitted.rows }, (_, r) => [0, 1, 2, 3].map((c) => {
    const v = fitted.data[c * fitted.rows + r]!;
    return Number.isFinite(v) ? v : 0;
  }))), { seed: 9, sampleSize: 200 });
  const probe = awkwardMatrix(2100, 4, 2);
  const compiled = compileForest(forest);
  for (const [start, end] of RANGES) {
    const initial = startingValues(end - start);
    const out = initial.slice();
    walkForest(compiled, probe.data, probe.rows, start, end, out);
    assert.deepEqual(out, storedForestSums(forest, probe, start, end, initial), `rows ${start}..${end}`);
  }
});

test('walkTrees adds exactly the stored trees\' class shares, for any row range and class count', () => {
  const probe = awkwardMatrix(2100, 3, 3);
  const random = new Random(4);
  const train = matrixFromRows(Array.from({ length: 800 }, () => [random.nextFloat() * 5, random.nextFloat(), random.nextFloat()]));
  for (const classes of [2, 5]) {
    const codes = Int32Array.from({ length: train.rows }, (_, r) => Math.floor(train.data[r]!) % classes);
    const model = fitExtraTrees(train, codes, classes, { seed: classes, trees: 9, minLeaf: 1 });
    const compiled = compileTrees(model);
    for (const [start, end] of RANGES) {
      const initial = startingValues(end - start, classes);
      const out = initial.slice();
      walkTrees(compiled, probe.data, probe.rows, start, end, out);
      assert.deepEqual(out, storedTreeShares(model, probe, start, end, initial), `${classes} classes, rows ${start}..${end}`);
    }
  }
});

test('one thread switching between models, small and large, scores each as if alone', () => {
  const random = new Random(8);
  const data = (rows: number, cols: number) => matrixFromRows(Array.from({ length: rows }, () => Array.from({ length: cols }, () => random.nextFloat())));
  const narrow = data(300, 2);
  const wide = data(3000, 12);
  // A small forest first, then one with more trees, deeper trees and more features (the walker's
  // memory grows), then the small one again.
  const small = fitIsolationForest(narrow, { seed: 1, trees: 5, sampleSize: 16 });
  const large = fitIsolationForest(wide, { seed: 2, trees: 300, sampleSize: 2048 });
  const alone = new Map<IsolationForest, Float64Array>();
  for (const [forest, m] of [[small, narrow], [large, wide]] as const) alone.set(forest, storedForestSums(forest, m, 0, m.rows, new Float64Array(m.rows)));
  for (const [forest, m] of [[small, narrow], [large, wide], [small, narrow], [large, wide]] as const) {
    const out = new Float64Array(m.rows);
    walkForest(compileForest(forest), m.data, m.rows, 0, m.rows, out);
    assert.deepEqual(out, alone.get(forest));
  }
  const codes = Int32Array.from({ length: wide.rows }, (_, r) => (wide.data[r]! > 0.5 ? 1 : 0));
  const trees = [fitExtraTrees(wide, codes, 2, { seed: 3, trees: 3 }), fitExtraTrees(wide, codes, 2, { seed: 4, trees: 40, minLeaf: 1 })];
  for (const model of [...trees, ...trees]) {
    const out = new Float64Array(wide.rows * 2);
    walkTrees(compileTrees(model), wide.data, wide.rows, 0, wide.rows, out);
    assert.deepEqual(out, storedTreeShares(model, wide, 0, wide.rows, new Float64Array(wide.rows * 2)));
  }
});
