// Extremely randomised trees for classification (Geurts, Ernst & Wehenkel 2006): at each node,
// draw a few features at random, one uniform random threshold each, and keep the candidate with
// the lowest weighted Gini impurity. Leaves keep class shares, so the forest gives smooth class
// probabilities. It complements the (linear) logistic model in the label model.
// Trees are flat typed arrays; all randomness comes from one seeded generator.
import { InputError } from '../core/errors.js';
import { Random, identityPermutation, sampleWithoutReplacement } from '../core/random.js';
import type { FeatureMatrix } from './features.js';
import { sharedFloat64, sharedInt32 } from './shared-arrays.js';
import { walkTrees } from './tree-walks.js';

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
  /**
   * Grow each tree on a copy of its rows (the same trees, faster on a table much larger than a
   * tree's rows). Default: when the table has at least four times a tree's rows.
   */
  readonly copyRows?: boolean;
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
  // A node's labels and one candidate feature's values, copied in sample order: the threshold
  // draws then count over contiguous memory instead of gathering from the matrix each time.
  const nodeLabels = new Int32Array(samples);
  const nodeValues = new Float64Array(samples);
  const rightRows = new Int32Array(samples);
  // Features found constant in a node stay constant below it, so they are not scanned again (in
  // a deep node of one-hot data, nearly all are): row d flags those known at depth d. A depth-first
  // walk reaches a node's right child after its left subtree, which only writes deeper rows.
  const depthRows = Math.min(maxDepth, samples) + 1;
  const knownConstant = new Uint8Array(depthRows * cols);
  // A tree that draws its rows from a table four or more times larger grows on a copy of them,
  // column by column, whose columns are that much shorter than the table's: on wide data the
  // whole table outgrows the cache. From a smaller table, copying cost more than it saved
  // (BENCHMARKS.md). Not for a copy past 64 MB.
  const copyRows = samples < rows && (options.copyRows ?? (rows >= 4 * samples && samples * cols <= 1 << 23));
  const treeData = copyRows ? new Float64Array(samples * cols) : data;
  const treeLabels = copyRows ? new Int32Array(samples) : labels;
  const stride = copyRows ? samples : rows;
  // Work stack: node (relative), segment [lo, hi) of `sample`, depth.
  const stack: number[] = [];

  for (let t = 0; t < trees; t++) {
    const start = splitFeature.length;
    treeStart[t] = start;
    // In ascending row order, kept so by a stable partition: a node's rows are then read from the
    // matrix front to back, neighbours sharing cache lines, rather than at random. The order of
    // a node's rows changes no count, so the trees are those of any other order.
    let sample = samples === rows ? identityPermutation(rows) : sampleWithoutReplacement(pool, samples, random).sort();
    if (copyRows) {
      for (let f = 0; f < cols; f++) {
        const from = f * rows;
        const to = f * samples;
        for (let i = 0; i < samples; i++) treeData[to + i] = data[from + sample[i]!]!;
      }
      for (let i = 0; i < samples; i++) treeLabels[i] = labels[sample[i]!]!;
      sample = identityPermutation(samples);
    }
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
      for (let i = lo; i < hi; i++) {
        const label = treeLabels[sample[i]!]!;
        nodeLabels[i - lo] = label;
        counts[label]!++;
      }
      let pure = false;
      for (let k = 0; k < classes; k++) if (counts[k] === n) pure = true;

      let bestFeature = -1;
      let bestSplit = 0;
      let bestImpurity = Infinity;
      if (!pure && n >= 2 * minLeaf && depth < maxDepth) {
        // Draw features until maxFeatures non-constant ones have been tried (constant ones are free).
        let visited = 0;
        const known = depth * cols;
        const knownBelow = known + cols;
        knownConstant.copyWithin(knownBelow, known, knownBelow);
        for (let drawn = 0; drawn < cols && visited < maxFeatures; drawn++) {
          const pick = drawn + random.nextInt(cols - drawn);
          const f = featureOrder[pick]!;
          featureOrder[pick] = featureOrder[drawn]!;
          featureOrder[drawn] = f;
          if (knownConstant[known + f] === 1) continue;
          const base = f * stride;
          let min = Infinity;
          let max = -Infinity;
          let atMin = 0;
          let atMax = 0;
          for (let i = lo; i < hi; i++) {
            const v = treeData[base + sample[i]!]!;
            nodeValues[i - lo] = v;
            if (v < min) {
              min = v;
              atMin = 1;
            } else if (v === min) {
              atMin++;
            }
            if (v > max) {
              max = v;
              atMax = 1;
            } else if (v === max) {
              atMax++;
            }
          }
          if (!(max > min)) {
            knownConstant[knownBelow + f] = 1;
            continue;
          }
          visited++;
          // A threshold that leaves a side with fewer than minLeaf rows is redrawn (a few times),
          // so a node does not end as a leaf just because one draw landed near an edge.
          // With two values in the node (a one-hot or flag column, mostly) every threshold splits
          // alike, so a failed split fails every redraw: the draws are made, the counting is not.
          const twoValued = atMin + atMax === n;
          if (twoValued && (atMin < minLeaf || atMax < minLeaf)) {
            for (let attempt = 0; attempt < 4; attempt++) random.nextFloat();
            continue;
          }
          let split = 0;
          let nLeft = 0;
          for (let attempt = 0; attempt < 4; attempt++) {
            split = min + (max - min) * (1 - random.nextFloat());
            if (!(split > min)) split = max;
            leftCounts.fill(0);
            nLeft = 0;
            for (let i = 0; i < n; i++) {
              if (nodeValues[i]! < split) {
                leftCounts[nodeLabels[i]!]!++;
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
      const base = bestFeature * stride;
      let i = lo;
      let rightCount = 0;
      for (let r = lo; r < hi; r++) {
        const row = sample[r]!;
        if (treeData[base + row]! < bestSplit) sample[i++] = row;
        else rightRows[rightCount++] = row;
      }
      sample.set(rightRows.subarray(0, rightCount), i);
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
 * several rows can walk one tree in lockstep until none of them moves (tree-walks.ts).
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
  const compiled: CompiledTrees = { classes, features: model.features, trees, roots, feature, split, right, leafValue };
  compiledCache.set(model, compiled);
  return compiled;
}

/** Fills `out` (rows x classes, row-major) with the mean of the trees' leaf class shares. */
export function predictExtraTrees(model: ExtraTreesModel, matrix: FeatureMatrix, out = new Float64Array(matrix.rows * model.classes)): Float64Array {
  if (matrix.cols !== model.features) throw new InputError(`the tree model has ${model.features} features, the matrix ${matrix.cols}`);
  out.fill(0);
  walkTrees(compileTrees(model), matrix.data, matrix.rows, 0, matrix.rows, out);
  return out;
}
