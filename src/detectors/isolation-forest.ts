// Isolation forest, as Liu, Ting & Zhou (ICDM 2008) define it: each tree is grown on a subsample
// of psi rows drawn without replacement, splits pick a random feature and a uniform random value
// between that feature's min and max in the node, growth stops at height ceil(log2 psi) or at one
// row, and a row's path length is the depth of the leaf it reaches plus c(leaf size), the average
// path length of an unbuilt subtree. The anomaly score is 2^(-E(h) / c(psi)).
//
// Trees are stored flat (split feature, split value, child indices, leaf sizes) for serialising.
// For scoring they are recompiled into complete binary trees of depth ceil(log2 psi) in heap
// order, with short leaves copied down to the bottom level, so every row takes the same number
// of branch-free steps per tree; scores come out the same as walking the original trees.
import { InputError } from '../core/errors.js';
import { Random, identityPermutation, sampleWithoutReplacement } from '../core/random.js';
import type { FeatureMatrix } from './features.js';
import { sharedFloat64, sharedInt32 } from './shared-arrays.js';
import { walkForest } from './tree-walks.js';

export interface IsolationForestOptions {
  /** Number of trees (default 100). */
  readonly trees?: number;
  /** Subsample size psi per tree (default 256; capped at the number of rows). */
  readonly sampleSize?: number;
  /** Seed of the subsamples and splits (default 0). */
  readonly seed?: number;
}

export interface IsolationForest {
  readonly trees: number;
  /** The psi actually used (min(sampleSize, rows)). */
  readonly sampleSize: number;
  readonly heightLimit: number;
  readonly features: number;
  readonly seed: number;
  /** Node offsets: tree t owns nodes [treeStart[t], treeStart[t + 1]). */
  readonly treeStart: Int32Array;
  /** Feature index at an internal node, -1 at a leaf. */
  readonly splitFeature: Int32Array;
  /** Rows with value < splitValue go left. */
  readonly splitValue: Float64Array;
  /** Child node indices, relative to the tree's first node (-1 at a leaf). */
  readonly leftChild: Int32Array;
  readonly rightChild: Int32Array;
  /** Subsample rows that reached a leaf (0 at internal nodes). */
  readonly leafSize: Int32Array;
}

const EULER_GAMMA = 0.5772156649015329;

/** Average path length of an unsuccessful search in a binary search tree of n items: c(n). */
export function averagePathLength(n: number): number {
  if (n > 2) return 2 * (Math.log(n - 1) + EULER_GAMMA) - (2 * (n - 1)) / n;
  return n === 2 ? 1 : 0;
}

export function fitIsolationForest(matrix: FeatureMatrix, options: IsolationForestOptions = {}): IsolationForest {
  const trees = options.trees ?? 100;
  const seed = options.seed ?? 0;
  const { rows, cols, data } = matrix;
  if (!Number.isInteger(trees) || trees < 1) throw new InputError(`trees must be a positive integer, got ${trees}`);
  const requested = options.sampleSize ?? 256;
  if (!Number.isInteger(requested) || requested < 2 || requested > 65536) {
    throw new InputError(`sampleSize must be an integer in [2, 65536], got ${requested}`);
  }
  if (rows < 2) throw new InputError(`an isolation forest needs at least 2 rows, got ${rows}`);
  if (cols < 1) throw new InputError('an isolation forest needs at least 1 feature');
  const psi = Math.min(requested, rows);
  const heightLimit = Math.ceil(Math.log2(psi));
  const maxNodes = 2 * psi - 1;

  const random = new Random(seed);
  const pool = identityPermutation(rows);
  const treeStart = new Int32Array(trees + 1);
  const splitFeature = new Int32Array(trees * maxNodes);
  const splitValue = new Float64Array(trees * maxNodes);
  const leftChild = new Int32Array(trees * maxNodes);
  const rightChild = new Int32Array(trees * maxNodes);
  const leafSize = new Int32Array(trees * maxNodes);
  const featureOrder = identityPermutation(cols);
  // Work stack of nodes to grow: node index, segment [lo, hi) of `sample`, depth.
  const stackNode = new Int32Array(maxNodes);
  const stackLo = new Int32Array(maxNodes);
  const stackHi = new Int32Array(maxNodes);
  const stackDepth = new Int32Array(maxNodes);

  let next = 0;
  for (let t = 0; t < trees; t++) {
    const start = next;
    treeStart[t] = start;
    const sample = sampleWithoutReplacement(pool, psi, random);
    let nodes = 1;
    let top = 0;
    stackNode[top] = 0;
    stackLo[top] = 0;
    stackHi[top] = psi;
    stackDepth[top] = 0;
    top++;
    while (top > 0) {
      top--;
      const node = start + stackNode[top]!;
      const lo = stackLo[top]!;
      const hi = stackHi[top]!;
      const depth = stackDepth[top]!;
      splitFeature[node] = -1;
      leftChild[node] = -1;
      rightChild[node] = -1;
      if (depth >= heightLimit || hi - lo <= 1) {
        leafSize[node] = hi - lo;
        continue;
      }
      // A random feature among those not constant in this node; none left means a leaf.
      let feature = -1;
      let min = 0;
      let max = 0;
      for (let tried = 0; tried < cols && feature < 0; tried++) {
        const pick = tried + random.nextInt(cols - tried);
        const f = featureOrder[pick]!;
        featureOrder[pick] = featureOrder[tried]!;
        featureOrder[tried] = f;
        const base = f * rows;
        min = Infinity;
        max = -Infinity;
        for (let i = lo; i < hi; i++) {
          const v = data[base + sample[i]!]!;
          if (v < min) min = v;
          if (v > max) max = v;
        }
        if (max > min) feature = f;
      }
      if (feature < 0) {
        leafSize[node] = hi - lo;
        continue;
      }
      // p in (min, max]: both sides keep at least one row.
      let split = min + (max - min) * (1 - random.nextFloat());
      if (!(split > min)) split = max;
      const base = feature * rows;
      let i = lo;
      let j = hi - 1;
      while (i <= j) {
        if (data[base + sample[i]!]! < split) {
          i++;
        } else {
          const tmp = sample[i]!;
          sample[i] = sample[j]!;
          sample[j] = tmp;
          j--;
        }
      }
      splitFeature[node] = feature;
      splitValue[node] = split;
      const left = nodes++;
      const right = nodes++;
      leftChild[node] = left;
      rightChild[node] = right;
      stackNode[top] = right;
      stackLo[top] = i;
      stackHi[top] = hi;
      stackDepth[top] = depth + 1;
      top++;
      stackNode[top] = left;
      stackLo[top] = lo;
      stackHi[top] = i;
      stackDepth[top] = depth + 1;
      top++;
    }
    next = start + nodes;
  }
  treeStart[trees] = next;
  return {
    trees,
    sampleSize: psi,
    heightLimit,
    features: cols,
    seed,
    treeStart,
    splitFeature: splitFeature.slice(0, next),
    splitValue: splitValue.slice(0, next),
    leftChild: leftChild.slice(0, next),
    rightChild: rightChild.slice(0, next),
    leafSize: leafSize.slice(0, next),
  };
}

/**
 * The forest as complete trees in heap order (children of i at 2i+1 and 2i+2), ready for
 * branch-free scoring. Each tree has 2^D - 1 internal slots and 2^D leaf slots, D = heightLimit.
 */
export interface CompiledForest {
  readonly trees: number;
  readonly depth: number;
  readonly features: number;
  /** c(psi), the normaliser of the mean path length. */
  readonly normaliser: number;
  readonly heapFeature: Int32Array;
  readonly heapSplit: Float64Array;
  /** Leaf depth + c(leaf size), the path length of a row ending there. */
  readonly heapPath: Float64Array;
}

const compiledCache = new WeakMap<IsolationForest, CompiledForest>();

export function compileForest(forest: IsolationForest): CompiledForest {
  const cached = compiledCache.get(forest);
  if (cached !== undefined) return cached;
  const depth = forest.heightLimit;
  const internal = (1 << depth) - 1;
  const leaves = 1 << depth;
  // Shared, so scoring threads get the compiled forest without a copy.
  const heapFeature = sharedInt32(forest.trees * internal);
  // Padding slots compare against +Infinity (rows go left); below them every slot holds the same
  // leaf, so the side a row takes does not matter.
  const heapSplit = sharedFloat64(forest.trees * internal).fill(Infinity);
  const heapPath = sharedFloat64(forest.trees * leaves);
  const stackNode = new Int32Array(2 * depth + 2);
  const stackSlot = new Int32Array(2 * depth + 2);
  const stackDepth = new Int32Array(2 * depth + 2);
  for (let t = 0; t < forest.trees; t++) {
    const start = forest.treeStart[t]!;
    const featureBase = t * internal;
    const leafBase = t * leaves;
    let top = 0;
    stackNode[0] = 0;
    stackSlot[0] = 0;
    stackDepth[0] = 0;
    top = 1;
    while (top > 0) {
      top--;
      const node = start + stackNode[top]!;
      const slot = stackSlot[top]!;
      const d = stackDepth[top]!;
      if (forest.splitFeature[node]! < 0) {
        // Copy the leaf's path length into every bottom slot under this slot.
        const path = d + averagePathLength(forest.leafSize[node]!);
        const width = 1 << (depth - d);
        const first = ((slot + 1) << (depth - d)) - 1 - internal;
        heapPath.fill(path, leafBase + first, leafBase + first + width);
        continue;
      }
      heapFeature[featureBase + slot] = forest.splitFeature[node]!;
      heapSplit[featureBase + slot] = forest.splitValue[node]!;
      stackNode[top] = forest.leftChild[node]!;
      stackSlot[top] = 2 * slot + 1;
      stackDepth[top] = d + 1;
      top++;
      stackNode[top] = forest.rightChild[node]!;
      stackSlot[top] = 2 * slot + 2;
      stackDepth[top] = d + 1;
      top++;
    }
  }
  const compiled: CompiledForest = {
    trees: forest.trees,
    depth,
    features: forest.features,
    normaliser: averagePathLength(forest.sampleSize),
    heapFeature,
    heapSplit,
    heapPath,
  };
  compiledCache.set(forest, compiled);
  return compiled;
}

/** Turns summed path lengths into scores 2^(-E(h)/c(psi)), in place. */
export function pathLengthsToScores(compiled: CompiledForest, sums: Float64Array): Float64Array {
  const factor = -1 / (compiled.trees * compiled.normaliser);
  for (let i = 0; i < sums.length; i++) sums[i] = Math.pow(2, sums[i]! * factor);
  return sums;
}

function checkWidth(forest: IsolationForest, matrix: FeatureMatrix): void {
  if (matrix.cols !== forest.features) {
    throw new InputError(`the forest was fitted on ${forest.features} features, the matrix has ${matrix.cols}`);
  }
}

/** Anomaly scores in (0, 1]; higher is more anomalous (about 0.5 and below is ordinary). */
export function scoreIsolationForest(forest: IsolationForest, matrix: FeatureMatrix): Float64Array {
  checkWidth(forest, matrix);
  const compiled = compileForest(forest);
  const sums = new Float64Array(matrix.rows);
  walkForest(compiled, matrix.data, matrix.rows, 0, matrix.rows, sums);
  return pathLengthsToScores(compiled, sums);
}

/** Mean path length E(h) per row (the quantity the score normalises). */
export function meanPathLengths(forest: IsolationForest, matrix: FeatureMatrix): Float64Array {
  checkWidth(forest, matrix);
  const compiled = compileForest(forest);
  const sums = new Float64Array(matrix.rows);
  walkForest(compiled, matrix.data, matrix.rows, 0, matrix.rows, sums);
  for (let i = 0; i < sums.length; i++) sums[i] = sums[i]! / compiled.trees;
  return sums;
}

/**
 * The value a share `quantile` of the scores do not exceed (the order statistic at
 * ceil(quantile * n), so at most a share 1 - quantile of these scores is above it).
 */
export function scoreQuantile(scores: Float64Array, quantile: number): number {
  if (!(quantile >= 0 && quantile <= 1)) throw new InputError(`quantile must be in [0, 1], got ${quantile}`);
  if (scores.length === 0) throw new InputError('cannot take a quantile of no scores');
  const sorted = Float64Array.from(scores).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(quantile * sorted.length) - 1));
  return sorted[rank]!;
}

/** Threshold from the baseline score distribution: rows scoring above it are outliers. */
export function thresholdFromQuantile(baselineScores: Float64Array, quantile = 0.995): number {
  return scoreQuantile(baselineScores, quantile);
}

/** Threshold that flags about a share `contamination` of the baseline rows. */
export function thresholdFromContamination(baselineScores: Float64Array, contamination: number): number {
  if (!(contamination > 0 && contamination < 1)) throw new InputError(`contamination must be in (0, 1), got ${contamination}`);
  return scoreQuantile(baselineScores, 1 - contamination);
}

/** JSON-safe form: typed arrays as little-endian base64. */
export interface IsolationForestJson {
  readonly trees: number;
  readonly sampleSize: number;
  readonly heightLimit: number;
  readonly features: number;
  readonly seed: number;
  readonly treeStart: string;
  readonly splitFeature: string;
  readonly splitValue: string;
  readonly leftChild: string;
  readonly rightChild: string;
  readonly leafSize: string;
}

export function typedToBase64(array: Int32Array | Float64Array | Uint8Array): string {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString('base64');
}

export function base64ToTyped<T extends Int32Array | Float64Array>(text: unknown, kind: 'int32' | 'float64', what: string): T {
  if (typeof text !== 'string') throw new InputError(`${what} must be a base64 string`);
  const bytes = Buffer.from(text, 'base64');
  const width = kind === 'int32' ? 4 : 8;
  if (bytes.byteLength % width !== 0) throw new InputError(`${what} is not a whole number of ${kind} values`);
  // Copy into a fresh, aligned buffer (Buffer pools are not aligned to 8 bytes).
  const copy = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(copy).set(bytes);
  return (kind === 'int32' ? new Int32Array(copy) : new Float64Array(copy)) as T;
}

export function forestToJson(forest: IsolationForest): IsolationForestJson {
  return {
    trees: forest.trees,
    sampleSize: forest.sampleSize,
    heightLimit: forest.heightLimit,
    features: forest.features,
    seed: forest.seed,
    treeStart: typedToBase64(forest.treeStart),
    splitFeature: typedToBase64(forest.splitFeature),
    splitValue: typedToBase64(forest.splitValue),
    leftChild: typedToBase64(forest.leftChild),
    rightChild: typedToBase64(forest.rightChild),
    leafSize: typedToBase64(forest.leafSize),
  };
}

function positiveInteger(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new InputError(`${what} must be a non-negative integer`);
  return value;
}

/** Rebuilds a forest from its JSON form, checking that every tree is well formed. */
export function forestFromJson(json: unknown): IsolationForest {
  if (typeof json !== 'object' || json === null) throw new InputError('forest must be an object');
  const o = json as Record<string, unknown>;
  const trees = positiveInteger(o.trees, 'forest.trees');
  const sampleSize = positiveInteger(o.sampleSize, 'forest.sampleSize');
  const heightLimit = positiveInteger(o.heightLimit, 'forest.heightLimit');
  const features = positiveInteger(o.features, 'forest.features');
  const seed = o.seed;
  if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new InputError('forest.seed must be a number');
  if (trees < 1 || sampleSize < 2 || features < 1) throw new InputError('forest has no trees, features or sample');
  if (heightLimit !== Math.ceil(Math.log2(sampleSize))) throw new InputError('forest.heightLimit does not match forest.sampleSize');
  const treeStart = base64ToTyped<Int32Array>(o.treeStart, 'int32', 'forest.treeStart');
  const splitFeature = base64ToTyped<Int32Array>(o.splitFeature, 'int32', 'forest.splitFeature');
  const splitValue = base64ToTyped<Float64Array>(o.splitValue, 'float64', 'forest.splitValue');
  const leftChild = base64ToTyped<Int32Array>(o.leftChild, 'int32', 'forest.leftChild');
  const rightChild = base64ToTyped<Int32Array>(o.rightChild, 'int32', 'forest.rightChild');
  const leafSize = base64ToTyped<Int32Array>(o.leafSize, 'int32', 'forest.leafSize');
  const nodes = splitFeature.length;
  if (treeStart.length !== trees + 1 || treeStart[0] !== 0 || treeStart[trees] !== nodes) throw new InputError('forest.treeStart does not match the node arrays');
  for (const [name, array] of [['splitValue', splitValue], ['leftChild', leftChild], ['rightChild', rightChild], ['leafSize', leafSize]] as const) {
    if (array.length !== nodes) throw new InputError(`forest.${name} has ${array.length} nodes, expected ${nodes}`);
  }
  for (let t = 0; t < trees; t++) {
    const start = treeStart[t]!;
    const size = treeStart[t + 1]! - start;
    if (size < 1) throw new InputError(`forest tree ${t} is empty`);
    // Every child index points forward inside its tree, so walks end and stay in bounds.
    for (let i = 0; i < size; i++) {
      const node = start + i;
      const f = splitFeature[node]!;
      if (f === -1) {
        if (leafSize[node]! < 0 || leafSize[node]! > sampleSize) throw new InputError(`forest tree ${t} has a bad leaf size`);
        continue;
      }
      if (f < 0 || f >= features) throw new InputError(`forest tree ${t} splits on feature ${f} of ${features}`);
      if (Number.isNaN(splitValue[node]!)) throw new InputError(`forest tree ${t} has a NaN split value`);
      const l = leftChild[node]!;
      const r = rightChild[node]!;
      if (!(l > i && l < size && r > i && r < size)) throw new InputError(`forest tree ${t} has a child index out of range`);
    }
    if (maxDepth(splitFeature, leftChild, rightChild, start, size) > heightLimit) throw new InputError(`forest tree ${t} is deeper than its height limit`);
  }
  return { trees, sampleSize, heightLimit, features, seed, treeStart, splitFeature, splitValue, leftChild, rightChild, leafSize };
}

function maxDepth(splitFeature: Int32Array, leftChild: Int32Array, rightChild: Int32Array, start: number, size: number): number {
  // Children point forward, so one pass in index order knows each node's deepest parent first.
  const depth = new Int32Array(size);
  let deepest = 0;
  for (let i = 0; i < size; i++) {
    if (splitFeature[start + i]! < 0) continue;
    const d = depth[i]! + 1;
    const l = leftChild[start + i]!;
    const r = rightChild[start + i]!;
    if (d > depth[l]!) depth[l] = d;
    if (d > depth[r]!) depth[r] = d;
    if (d > deepest) deepest = d;
  }
  return deepest;
}
