// Extremely randomised trees for classification (Geurts, Ernst & Wehenkel 2006): at each node,
// draw a few features at random, one uniform random threshold each, and keep the candidate with
// the lowest weighted Gini impurity. Leaves keep class shares, so the forest gives smooth class
// probabilities. It complements the (linear) logistic model in the label model.
// Trees are flat typed arrays; all randomness comes from one seeded generator.
import { InputError } from '../core/errors.js';
import { Random, identityPermutation, sampleWithoutReplacement } from '../core/random.js';
import type { FeatureMatrix } from './features.js';
import { offsetsFor, sharedFloat64, sharedInt32, sharedUint8 } from './shared-arrays.js';

export interface ExtraTreesOptions {
  /** Number of trees (default 50). */
  readonly trees?: number;
  /** Rows each leaf must keep (default 3). */
  readonly minLeaf?: number;
  /** Candidate features per node (default round(sqrt(features))). */
  readonly maxFeatures?: number;
  /** Depth cap (default 32). */
  readonly maxDepth?: number;
  /** Rows per tree, drawn without replacement; every row when there are fewer (default 2048): shallower trees keep scoring fast. */
  readonly maxSamples?: number;
  readonly seed?: number;
}

export interface ExtraTreesModel {
  readonly classes: number;
  readonly features: number;
  readonly trees: number;
  /** Node offsets: tree t owns nodes [treeStart[t], treeStart[t + 1]). */
  readonly treeStart: Int32Array;
  /** Feature at an internal node; -1 at a leaf. */
  readonly splitFeature: Int32Array;
  /** Rows with value < splitValue go left. */
  readonly splitValue: Float64Array;
  /** Child indices relative to the tree's first node; at a leaf, leftChild is the leaf's number. */
  readonly leftChild: Int32Array;
  readonly rightChild: Int32Array;
  /** Class shares per leaf: leafShares[leaf * classes + k]. */
  readonly leafShares: Float64Array;
}

/** A typed array that doubles when full. */
class Growable<T extends Int32Array | Float64Array> {
  length = 0;
  constructor(
    public array: T,
    private readonly make: (size: number) => T,
  ) {}
  push(value: number): void {
    if (this.length === this.array.length) {
      const bigger = this.make(this.array.length * 2);
      bigger.set(this.array);
      this.array = bigger;
    }
    this.array[this.length++] = value;
  }
  set(index: number, value: number): void {
    this.array[index] = value;
  }
  trimmed(): T {
    return this.array.slice(0, this.length) as T;
  }
}

const int32 = (n: number) => new Int32Array(n);
const float64 = (n: number) => new Float64Array(n);

/** Fits on every row; labels are class numbers in [0, classes). */
export function fitExtraTrees(matrix: FeatureMatrix, labels: Int32Array, classes: number, options: ExtraTreesOptions = {}): ExtraTreesModel {
  const { rows, cols, data } = matrix;
  if (labels.length !== rows) throw new InputError(`${labels.length} labels for ${rows} rows`);
  if (rows === 0 || cols === 0) throw new InputError('extra trees need at least one row and one feature');
  const trees = options.trees ?? 50;
  const minLeaf = Math.max(1, options.minLeaf ?? 3);
  const maxFeatures = Math.min(cols, Math.max(1, options.maxFeatures ?? Math.round(Math.sqrt(cols))));
  const maxDepth = options.maxDepth ?? 32;
  const samples = Math.min(rows, options.maxSamples ?? 2048);
  const random = new Random(options.seed ?? 0);
  const pool = identityPermutation(rows);

  const treeStart = new Int32Array(trees + 1);
  const splitFeature = new Growable(new Int32Array(1024), int32);
  const splitValue = new Growable(new Float64Array(1024), float64);
  const leftChild = new Growable(new Int32Array(1024), int32);
  const rightChild = new Growable(new Int32Array(1024), int32);
  const leafShares = new Growable(new Float64Array(1024), float64);
  let leaves = 0;

  const featureOrder = identityPermutation(cols);
  const counts = new Float64Array(classes);
  const leftCounts = new Float64Array(classes);
  // Work stack: node (relative), segment [lo, hi) of `sample`, depth.
  const stack: number[] = [];

  for (let t = 0; t < trees; t++) {
    const start = splitFeature.length;
    treeStart[t] = start;
    const sample = samples === rows ? identityPermutation(rows) : sampleWithoutReplacement(pool, samples, random);
    let nodes = 1;
    const addNode = () => {
      splitFeature.push(-1);
      splitValue.push(0);
      leftChild.push(-1);
      rightChild.push(-1);
    };
    addNode();
    stack.push(0, 0, sample.length, 0);
    while (stack.length > 0) {
      const depth = stack.pop()!;
      const hi = stack.pop()!;
      const lo = stack.pop()!;
      const node = start + stack.pop()!;
      const n = hi - lo;
      counts.fill(0);
      for (let i = lo; i < hi; i++) counts[labels[sample[i]!]!]!++;
      let pure = false;
      for (let k = 0; k < classes; k++) if (counts[k] === n) pure = true;

      let bestFeature = -1;
      let bestSplit = 0;
      let bestImpurity = Infinity;
      if (!pure && n >= 2 * minLeaf && depth < maxDepth) {
        // Draw features until maxFeatures non-constant ones have been tried (constant ones are free).
        let visited = 0;
        for (let drawn = 0; drawn < cols && visited < maxFeatures; drawn++) {
          const pick = drawn + random.nextInt(cols - drawn);
          const f = featureOrder[pick]!;
          featureOrder[pick] = featureOrder[drawn]!;
          featureOrder[drawn] = f;
          const base = f * rows;
          let min = Infinity;
          let max = -Infinity;
          for (let i = lo; i < hi; i++) {
            const v = data[base + sample[i]!]!;
            if (v < min) min = v;
            if (v > max) max = v;
          }
          if (!(max > min)) continue;
          visited++;
          // A threshold that leaves a side with fewer than minLeaf rows is redrawn (a few times),
          // so a node does not end as a leaf just because one draw landed near an edge.
          let split = 0;
          let nLeft = 0;
          for (let attempt = 0; attempt < 4; attempt++) {
            split = min + (max - min) * (1 - random.nextFloat());
            if (!(split > min)) split = max;
            leftCounts.fill(0);
            nLeft = 0;
            for (let i = lo; i < hi; i++) {
              const row = sample[i]!;
              if (data[base + row]! < split) {
                leftCounts[labels[row]!]!++;
                nLeft++;
              }
            }
            if (nLeft >= minLeaf && n - nLeft >= minLeaf) break;
          }
          const nRight = n - nLeft;
          if (nLeft < minLeaf || nRight < minLeaf) continue;
          // Weighted Gini: n_l * (1 - sum p_l^2) + n_r * (1 - sum p_r^2) = n - sum c_l^2 / n_l - sum c_r^2 / n_r.
          let sumLeft = 0;
          let sumRight = 0;
          for (let k = 0; k < classes; k++) {
            const l = leftCounts[k]!;
            const r = counts[k]! - l;
            sumLeft += l * l;
            sumRight += r * r;
          }
          const impurity = n - sumLeft / nLeft - sumRight / nRight;
          if (impurity < bestImpurity) {
            bestImpurity = impurity;
            bestFeature = f;
            bestSplit = split;
          }
        }
      }
      if (bestFeature < 0) {
        leftChild.set(node, leaves++);
        for (let k = 0; k < classes; k++) leafShares.push(counts[k]! / n);
        continue;
      }
      const base = bestFeature * rows;
      let i = lo;
      let j = hi - 1;
      while (i <= j) {
        if (data[base + sample[i]!]! < bestSplit) {
          i++;
        } else {
          const tmp = sample[i]!;
          sample[i] = sample[j]!;
          sample[j] = tmp;
          j--;
        }
      }
      const left = nodes++;
      const right = nodes++;
      addNode();
      addNode();
      splitFeature.set(node, bestFeature);
      splitValue.set(node, bestSplit);
      leftChild.set(node, left);
      rightChild.set(node, right);
      stack.push(right, i, hi, depth + 1);
      stack.push(left, lo, i, depth + 1);
    }
  }
  treeStart[trees] = splitFeature.length;
  return {
    classes,
    features: cols,
    trees,
    treeStart,
    splitFeature: splitFeature.trimmed(),
    splitValue: splitValue.trimmed(),
    leftChild: leftChild.trimmed(),
    rightChild: rightChild.trimmed(),
    leafShares: leafShares.trimmed(),
  };
}

/**
 * The trees re-laid for scoring: each tree in breadth-first order with the two children of a
 * node side by side, so a step is `node = right[node] - (x < split[node])` with no branch to
 * mispredict (a NaN goes right, as in the fitted trees). A leaf's step lands on itself, so
 * several rows can walk one tree in lockstep until all of them sit on a leaf.
 */
export interface CompiledTrees {
  readonly classes: number;
  readonly features: number;
  readonly trees: number;
  /** First node of each tree. */
  readonly roots: Int32Array;
  /** Feature at an internal node; 0 at a leaf (read and ignored). */
  readonly feature: Int32Array;
  /** NaN at a leaf: `x < NaN` is false for every x, so the leaf's step lands on itself. */
  readonly split: Float64Array;
  /** The right child (the left one is just before it); at a leaf, the leaf itself. */
  readonly right: Int32Array;
  /** 1 at a leaf. */
  readonly leaf: Uint8Array;
  /** Per node, classes values: the leaf's class shares times 1 / trees (0 at internal nodes). */
  readonly leafValue: Float64Array;
}

const compiledCache = new WeakMap<ExtraTreesModel, CompiledTrees>();

export function compileTrees(model: ExtraTreesModel): CompiledTrees {
  const cached = compiledCache.get(model);
  if (cached !== undefined) return cached;
  const { classes, trees, treeStart, splitFeature, splitValue, leftChild, rightChild, leafShares } = model;
  const nodes = splitFeature.length;
  // Shared, so scoring threads get the compiled trees without a copy.
  const roots = sharedInt32(trees);
  const feature = sharedInt32(nodes);
  const split = sharedFloat64(nodes);
  const right = sharedInt32(nodes);
  const leaf = sharedUint8(nodes);
  const leafValue = sharedFloat64(nodes * classes);
  // The same product the tree-by-tree sum adds, so scores are unchanged to the bit.
  const weight = 1 / trees;
  const queue = new Int32Array(nodes);
  let next = 0;
  for (let t = 0; t < trees; t++) {
    const start = treeStart[t]!;
    roots[t] = next;
    // queue[i] is the original (relative) node placed at slot roots[t] + i.
    let head = 0;
    let tail = 0;
    queue[tail++] = 0;
    next++;
    while (head < tail) {
      const at = roots[t]! + head;
      const node = start + queue[head++]!;
      const f = splitFeature[node]!;
      if (f < 0) {
        leaf[at] = 1;
        split[at] = Number.NaN;
        right[at] = at;
        const shares = leftChild[node]! * classes;
        for (let k = 0; k < classes; k++) leafValue[at * classes + k] = weight * leafShares[shares + k]!;
        continue;
      }
      feature[at] = f;
      split[at] = splitValue[node]!;
      right[at] = next + 1;
      queue[tail++] = leftChild[node]!;
      queue[tail++] = rightChild[node]!;
      next += 2;
    }
  }
  const compiled: CompiledTrees = { classes, features: model.features, trees, roots, feature, split, right, leaf, leafValue };
  compiledCache.set(model, compiled);
  return compiled;
}

/** Rows per block: the block's slice of every feature stays in cache while all trees run over it. */
const BLOCK_ROWS = 1024;

/**
 * Adds the leaf values of rows [start, end) over all trees into out (rows x classes, row-major,
 * row start at 0). `data` is column-major with `stride` rows per column. Each row sums its trees
 * in tree order, whatever the blocking, so any split of the rows gives the same bits.
 */
export function accumulateTrees(compiled: CompiledTrees, data: Float64Array, stride: number, start: number, end: number, out: Float64Array): void {
  const { classes: K, trees, roots, feature, split, right, leaf, leafValue } = compiled;
  if (compiled.features * stride > 0x7fffffff) throw new RangeError('matrix too tall for one pass; score it in slices');
  const offset = offsetsFor(feature, stride);
  for (let blockStart = start; blockStart < end; blockStart += BLOCK_ROWS) {
    const blockEnd = Math.min(end, blockStart + BLOCK_ROWS);
    for (let t = 0; t < trees; t++) {
      const root = roots[t]!;
      // Every row takes the root's step: its feature and split are loaded once per tree.
      const rootOffset = offset[root]!;
      const rootSplit = split[root]!;
      const rootRight = right[root]!;
      let r = blockStart;
      // Eight walks in lockstep hide each other's latency; a walk that reached its leaf idles
      // there until the slowest of the eight is done.
      for (; r + 8 <= blockEnd; r += 8) {
        let n0 = rootRight - (((data[rootOffset + r]! < rootSplit) as unknown as number) | 0);
        let n1 = rootRight - (((data[rootOffset + r + 1]! < rootSplit) as unknown as number) | 0);
        let n2 = rootRight - (((data[rootOffset + r + 2]! < rootSplit) as unknown as number) | 0);
        let n3 = rootRight - (((data[rootOffset + r + 3]! < rootSplit) as unknown as number) | 0);
        let n4 = rootRight - (((data[rootOffset + r + 4]! < rootSplit) as unknown as number) | 0);
        let n5 = rootRight - (((data[rootOffset + r + 5]! < rootSplit) as unknown as number) | 0);
        let n6 = rootRight - (((data[rootOffset + r + 6]! < rootSplit) as unknown as number) | 0);
        let n7 = rootRight - (((data[rootOffset + r + 7]! < rootSplit) as unknown as number) | 0);
        while ((leaf[n0]! & leaf[n1]! & leaf[n2]! & leaf[n3]! & leaf[n4]! & leaf[n5]! & leaf[n6]! & leaf[n7]!) === 0) {
          n0 = right[n0]! - (((data[offset[n0]! + r]! < split[n0]!) as unknown as number) | 0);
          n1 = right[n1]! - (((data[offset[n1]! + r + 1]! < split[n1]!) as unknown as number) | 0);
          n2 = right[n2]! - (((data[offset[n2]! + r + 2]! < split[n2]!) as unknown as number) | 0);
          n3 = right[n3]! - (((data[offset[n3]! + r + 3]! < split[n3]!) as unknown as number) | 0);
          n4 = right[n4]! - (((data[offset[n4]! + r + 4]! < split[n4]!) as unknown as number) | 0);
          n5 = right[n5]! - (((data[offset[n5]! + r + 5]! < split[n5]!) as unknown as number) | 0);
          n6 = right[n6]! - (((data[offset[n6]! + r + 6]! < split[n6]!) as unknown as number) | 0);
          n7 = right[n7]! - (((data[offset[n7]! + r + 7]! < split[n7]!) as unknown as number) | 0);
        }
        const o = (r - start) * K;
        for (let k = 0; k < K; k++) {
          out[o + k] = out[o + k]! + leafValue[n0 * K + k]!;
          out[o + K + k] = out[o + K + k]! + leafValue[n1 * K + k]!;
          out[o + 2 * K + k] = out[o + 2 * K + k]! + leafValue[n2 * K + k]!;
          out[o + 3 * K + k] = out[o + 3 * K + k]! + leafValue[n3 * K + k]!;
          out[o + 4 * K + k] = out[o + 4 * K + k]! + leafValue[n4 * K + k]!;
          out[o + 5 * K + k] = out[o + 5 * K + k]! + leafValue[n5 * K + k]!;
          out[o + 6 * K + k] = out[o + 6 * K + k]! + leafValue[n6 * K + k]!;
          out[o + 7 * K + k] = out[o + 7 * K + k]! + leafValue[n7 * K + k]!;
        }
      }
      for (; r < blockEnd; r++) {
        let n = root;
        while (leaf[n] === 0) n = right[n]! - (((data[offset[n]! + r]! < split[n]!) as unknown as number) | 0);
        const o = (r - start) * K;
        for (let k = 0; k < K; k++) out[o + k] = out[o + k]! + leafValue[n * K + k]!;
      }
    }
  }
}

/** Fills `out` (rows x classes, row-major) with the mean of the trees' leaf class shares. */
export function predictExtraTrees(model: ExtraTreesModel, matrix: FeatureMatrix, out = new Float64Array(matrix.rows * model.classes)): Float64Array {
  if (matrix.cols !== model.features) throw new InputError(`the tree model has ${model.features} features, the matrix ${matrix.cols}`);
  out.fill(0);
  accumulateTrees(compileTrees(model), matrix.data, matrix.rows, 0, matrix.rows, out);
  return out;
}
