// Label quality from predicted class probabilities, with the confident-learning rule
// (Northcutt, Jiang & Chuang 2021): per class j, t_j = mean predicted probability of j over the
// rows labelled j; a row labelled g is a suspect when some other class k has p_k >= t_k and
// p_k > p_g. Probabilities come from an ensemble (the mean of a multinomial logistic regression
// and extremely randomised trees) and, on the fitting rows, from k-fold out-of-fold predictions,
// so no row is judged by a model that saw its own label.
//
// Fitting on trusted rows stores the thresholds from their out-of-fold predictions together
// with models fitted on all of them; a scan then predicts probabilities for each new batch and
// applies the same rule, one batch at a time, with no second pass.
import { InputError } from '../core/errors.js';
import { Random } from '../core/random.js';
import type { Column } from '../core/types.js';
import { cellKey, classCodes, takeRows, type FeatureMatrix } from './features.js';
import { chiSquareHomogeneity } from './chi-square.js';
import { compileTrees, fitExtraTrees, type CompiledTrees, type ExtraTreesModel, type ExtraTreesOptions } from './extra-trees.js';
import { base64ToTyped, typedToBase64 } from './isolation-forest.js';
import { walkTrees } from './tree-walks.js';
import { fitLogistic, predictLogisticRows, type LogisticModel } from './logistic.js';

export interface LabelModelOptions {
  /** Out-of-fold folds (default 5). */
  readonly folds?: number;
  readonly seed?: number;
  /** L2 penalty of the logistic model (default 1 / rows). */
  readonly l2?: number;
  /** Options of the tree ensemble (its seed derives from `seed`). */
  readonly trees?: Omit<ExtraTreesOptions, 'seed'>;
}

export interface LabelModel {
  /** Class keys (the label values as text), sorted. */
  readonly classes: readonly string[];
  /** Width of the standardised feature matrix the model reads. */
  readonly features: number;
  /** Per-class confident-learning thresholds t_j from out-of-fold predictions. */
  readonly thresholds: readonly number[];
  /** Labelled rows per class in the fitting sample. */
  readonly classCounts: readonly number[];
  /**
   * Share of the labelled fitting rows the rule flags out of fold: on trusted rows, the false
   * alarms to expect. null in bundles written before it was recorded.
   */
  readonly fitFlagged: number | null;
  readonly folds: number;
  readonly seed: number;
  readonly logistic: LogisticModel;
  readonly trees: ExtraTreesModel;
  /** Only when fitted on the scanned input itself (see RowProbabilities). */
  readonly outOfFold?: RowProbabilities;
}

/**
 * Out-of-fold class probabilities of the rows a label model was fitted on, by input row. When
 * a scan fits on its own input, these rows would otherwise be judged by a model that saw their
 * labels, and a flipped label it has learnt looks right; their out-of-fold probabilities are used instead.
 */
export interface RowProbabilities {
  /** Input rows (0-based), ascending. */
  readonly rows: Float64Array;
  /** rows x classes, row-major. */
  readonly probabilities: Float64Array;
}

export interface LabelModelFit {
  /** null when the detector cannot run on this sample; `skipped` says why. */
  readonly model: LabelModel | null;
  readonly skipped: string | null;
  /** Out-of-fold probabilities of the fitting rows (rows x classes, row-major); zeros for unlabelled rows. */
  readonly outOfFold: Float64Array;
  /** Fitting rows the rule flags, ascending. */
  readonly suspects: Int32Array;
  /** Out-of-fold probability of each row's own label; -1 for rows without a usable label. */
  readonly quality: Float64Array;
}

export interface LabelIssues {
  /** Rows the rule flags, ascending. */
  readonly suspects: Int32Array;
  /** p_given per row; -1 where the row's label is missing or not a known class. */
  readonly quality: Float64Array;
  /** The most probable other class that passed its threshold, per row (-1 when none). */
  readonly suggested: Int32Array;
}

export interface EncodedLabels {
  readonly classes: string[];
  /** Class number per row; -1 for a missing label or one outside `classes`. */
  readonly codes: Int32Array;
}

function distinctKeys(column: Column): string[] {
  const keys = new Set<string>();
  for (let r = 0; r < column.values.length; r++) {
    const key = cellKey(column, r);
    if (key !== null) keys.add(key);
  }
  return [...keys];
}

/** Class numbers for a label column; classes default to the sorted distinct values present. */
export function encodeLabels(column: Column, classes?: readonly string[]): EncodedLabels {
  const known = classes ? [...classes] : distinctKeys(column).sort();
  return { classes: known, codes: classCodes(column, known) };
}

/** Per-class thresholds: the mean probability of class j over rows labelled j. */
export function perClassThresholds(probabilities: Float64Array, codes: Int32Array, classes: number): number[] {
  const sums = new Float64Array(classes);
  const counts = new Float64Array(classes);
  for (let r = 0; r < codes.length; r++) {
    const g = codes[r]!;
    if (g < 0) continue;
    sums[g] = sums[g]! + probabilities[r * classes + g]!;
    counts[g]!++;
  }
  // A class with no labelled rows gets an unreachable threshold rather than NaN.
  return Array.from(sums, (s, k) => (counts[k]! > 0 ? s / counts[k]! : 2));
}

/**
 * Thresholds for one scanned batch: per class, the batch's own mean probability over its rows
 * labelled with that class, shrunk toward the baseline threshold by `priorRows` pseudo-rows.
 * Thresholds taken from clean baseline rows alone sit at the mean self-confidence of clean
 * rows, so only about half of the mislabelled rows would clear them; the batch's own labels pull
 * the thresholds down by as much as the batch is noisy, as the rule intends, without a second pass.
 */
export function batchThresholds(probabilities: Float64Array, codes: Int32Array, baseline: readonly number[], priorRows = 20): number[] {
  const classes = baseline.length;
  const sums = new Float64Array(classes);
  const counts = new Float64Array(classes);
  for (let r = 0; r < codes.length; r++) {
    const g = codes[r]!;
    if (g < 0) continue;
    sums[g] = sums[g]! + probabilities[r * classes + g]!;
    counts[g]!++;
  }
  return baseline.map((t, k) => (counts[k]! + priorRows > 0 ? (priorRows * t + sums[k]!) / (priorRows + counts[k]!) : t));
}

/** Applies the confident-learning rule row by row. */
export function findLabelIssues(probabilities: Float64Array, codes: Int32Array, thresholds: readonly number[]): LabelIssues {
  const classes = thresholds.length;
  const rows = codes.length;
  const quality = new Float64Array(rows);
  const suggested = new Int32Array(rows).fill(-1);
  const suspects: number[] = [];
  for (let r = 0; r < rows; r++) {
    const g = codes[r]!;
    if (g < 0) {
      quality[r] = -1;
      continue;
    }
    const o = r * classes;
    const given = probabilities[o + g]!;
    quality[r] = given;
    let best = -1;
    let bestP = -1;
    for (let k = 0; k < classes; k++) {
      if (k === g) continue;
      const p = probabilities[o + k]!;
      if (p >= thresholds[k]! && p > given && p > bestP) {
        best = k;
        bestP = p;
      }
    }
    if (best >= 0) {
      suggested[r] = best;
      suspects.push(r);
    }
  }
  return { suspects: Int32Array.from(suspects), quality, suggested };
}

/**
 * Replaces the probabilities of a batch's rows (input rows rowOffset .. rowOffset + rowCount - 1,
 * `probabilities` rows x classes) that have out-of-fold ones. Returns how many it replaced.
 */
export function useOutOfFold(probabilities: Float64Array, rowOffset: number, rowCount: number, outOfFold: RowProbabilities): number {
  if (rowCount === 0) return 0;
  const { rows } = outOfFold;
  const K = probabilities.length / rowCount;
  // The first listed row at or after the batch's first row.
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (rows[mid]! < rowOffset) lo = mid + 1;
    else hi = mid;
  }
  let replaced = 0;
  for (let i = lo; i < rows.length && rows[i]! < rowOffset + rowCount; i++, replaced++) {
    probabilities.set(outOfFold.probabilities.subarray(i * K, (i + 1) * K), (rows[i]! - rowOffset) * K);
  }
  return replaced;
}

/** Stratified folds: each class's rows are shuffled (seeded) and dealt round-robin. */
export function stratifiedFolds(codes: Int32Array, classes: number, folds: number, seed: number): Int32Array {
  const random = new Random(seed);
  const fold = new Int32Array(codes.length).fill(-1);
  let dealt = 0;
  for (let k = 0; k < classes; k++) {
    const rows: number[] = [];
    for (let r = 0; r < codes.length; r++) if (codes[r] === k) rows.push(r);
    random.shuffle(rows);
    // Continue the deal where the previous class stopped, so small classes do not all start at fold 0.
    for (const r of rows) fold[r] = dealt++ % folds;
  }
  return fold;
}

interface Ensemble {
  readonly logistic: LogisticModel;
  readonly trees: ExtraTreesModel;
}

function fitEnsemble(matrix: FeatureMatrix, labels: Int32Array, classes: number, options: LabelModelOptions, seed: number): Ensemble {
  const logistic = fitLogistic(matrix, labels, classes, options.l2 === undefined ? {} : { l2: options.l2 });
  const trees = fitExtraTrees(matrix, labels, classes, { ...options.trees, seed });
  return { logistic, trees };
}

function predictEnsemble(ensemble: Ensemble, matrix: FeatureMatrix): Float64Array {
  return ensembleProbabilities(ensemble.logistic, compileTrees(ensemble.trees), matrix);
}

/** The ensemble's class probabilities from the logistic model and the compiled trees. */
export function ensembleProbabilities(logistic: LogisticModel, trees: CompiledTrees, matrix: FeatureMatrix): Float64Array {
  if (matrix.cols !== trees.features) throw new InputError(`the tree model has ${trees.features} features, the matrix ${matrix.cols}`);
  if (matrix.cols !== logistic.features) throw new InputError(`the logistic model has ${logistic.features} features, the matrix ${matrix.cols}`);
  const out = new Float64Array(matrix.rows * trees.classes);
  ensembleRows(logistic, trees, matrix.data, matrix.rows, 0, matrix.rows, out, new Float64Array(out.length));
  return out;
}

/**
 * Class probabilities of rows [start, end) of a column-major matrix (`stride` rows a column) into
 * out[0 .. (end - start) * classes): the mean of the logistic model's and the trees'. `forest`
 * is scratch of at least that length. What a scoring thread runs on its share of a batch, and
 * each row's numbers are the same whoever runs it.
 */
export function ensembleRows(
  logistic: LogisticModel, trees: CompiledTrees, data: Float64Array, stride: number, start: number, end: number, out: Float64Array, forest: Float64Array,
): void {
  const n = (end - start) * trees.classes;
  predictLogisticRows(logistic, data, stride, start, end, out);
  const sums = forest.subarray(0, n).fill(0);
  walkTrees(trees, data, stride, start, end, sums);
  for (let i = 0; i < n; i++) out[i] = 0.5 * (out[i]! + sums[i]!);
}

/** Class probabilities for new rows (rows x classes, row-major), encoded as the model was fitted. */
export function predictLabelProbabilities(model: LabelModel, matrix: FeatureMatrix): Float64Array {
  if (matrix.cols !== model.features) throw new InputError(`the label model was fitted on ${model.features} features, the matrix has ${matrix.cols}`);
  return predictEnsemble(model, matrix);
}

/** Why the label model cannot be fitted on this sample, or null when it can. */
export function labelModelObstacle(matrix: FeatureMatrix, codes: Int32Array, classes: readonly string[], folds: number): string | null {
  if (matrix.cols === 0) return 'no usable feature column (all dropped as missing, all-null or constant)';
  const counts = new Array<number>(classes.length).fill(0);
  let labelled = 0;
  for (const c of codes) {
    if (c >= 0) {
      counts[c]!++;
      labelled++;
    }
  }
  const present = classes.filter((_, k) => counts[k]! > 0);
  if (present.length < 2) {
    return present.length === 0 ? 'the label column has no usable value' : `the label has one class ('${present[0]}') in ${labelled} labelled rows`;
  }
  if (labelled < folds) return `${labelled} labelled rows are fewer than the ${folds} folds`;
  return null;
}

export function fitLabelModel(matrix: FeatureMatrix, codes: Int32Array, classes: readonly string[], options: LabelModelOptions = {}): LabelModelFit {
  const folds = options.folds ?? 5;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(folds) || folds < 2) throw new InputError(`folds must be an integer >= 2, got ${folds}`);
  if (codes.length !== matrix.rows) throw new InputError(`${codes.length} labels for ${matrix.rows} rows`);
  const K = classes.length;
  const outOfFold = new Float64Array(matrix.rows * K);
  const obstacle = labelModelObstacle(matrix, codes, classes, folds);
  if (obstacle !== null) {
    return { model: null, skipped: obstacle, outOfFold, suspects: new Int32Array(0), quality: new Float64Array(matrix.rows).fill(-1) };
  }

  // Work on the labelled rows only.
  const labelledRows: number[] = [];
  for (let r = 0; r < codes.length; r++) if (codes[r]! >= 0) labelledRows.push(r);
  const x = takeRows(matrix, labelledRows);
  const y = Int32Array.from(labelledRows, (r) => codes[r]!);
  const fold = stratifiedFolds(y, K, folds, seed);
  const random = new Random(seed);
  const oof = new Float64Array(y.length * K);
  for (let f = 0; f < folds; f++) {
    const train: number[] = [];
    const test: number[] = [];
    for (let i = 0; i < y.length; i++) (fold[i] === f ? test : train).push(i);
    if (test.length === 0) continue;
    const ensemble = fitEnsemble(takeRows(x, train), Int32Array.from(train, (i) => y[i]!), K, options, random.nextUint32());
    const predicted = predictEnsemble(ensemble, takeRows(x, test));
    test.forEach((i, t) => oof.set(predicted.subarray(t * K, (t + 1) * K), i * K));
  }
  const thresholds = perClassThresholds(oof, y, K);
  const final = fitEnsemble(x, y, K, options, random.nextUint32());
  const classCounts = new Array<number>(K).fill(0);
  for (const c of y) classCounts[c]!++;
  const issues = findLabelIssues(oof, y, thresholds);
  const model: LabelModel = {
    classes: [...classes], features: matrix.cols, thresholds, classCounts, fitFlagged: issues.suspects.length / y.length, folds, seed, logistic: final.logistic, trees: final.trees,
  };

  const quality = new Float64Array(matrix.rows).fill(-1);
  labelledRows.forEach((r, i) => {
    outOfFold.set(oof.subarray(i * K, (i + 1) * K), r * K);
    quality[r] = issues.quality[i]!;
  });
  const suspects = Int32Array.from(issues.suspects, (i) => labelledRows[i]!);
  return { model, skipped: null, outOfFold, suspects, quality };
}

// ---- Class balance between the baseline and a scan ----

export interface ClassBalanceShift {
  /** Half the L1 distance between the class shares (0 = same balance, 1 = disjoint). */
  readonly totalVariation: number;
  /** The largest change of one class's share. */
  readonly maxShift: number;
  /** The class whose share moved most. */
  readonly mostShifted: string;
  /** Share of scanned labelled rows whose class the baseline never saw (not in the distances). */
  readonly unknownShare: number;
  readonly baselineShares: Readonly<Record<string, number>>;
  readonly observedShares: Readonly<Record<string, number>>;
  readonly observedRows: number;
  /** Chi-square test of homogeneity between the baseline's class counts and the scan's. */
  readonly pValue: number;
}

/**
 * Counts labels into `counts` (length classes + 1; the last slot counts labels outside the known
 * classes). Counts add, so batches and workers merge by summing.
 */
export function countLabels(codes: Int32Array, column: Column | null, counts: Float64Array): void {
  const unknown = counts.length - 1;
  for (let r = 0; r < codes.length; r++) {
    const c = codes[r]!;
    if (c >= 0) counts[c]!++;
    else if (column !== null && cellKey(column, r) !== null) counts[unknown]!++;
  }
}

export function classBalanceShift(classes: readonly string[], baselineCounts: readonly number[], observedCounts: ArrayLike<number>): ClassBalanceShift {
  const K = classes.length;
  const baseTotal = baselineCounts.reduce((a, b) => a + b, 0);
  let knownTotal = 0;
  for (let k = 0; k < K; k++) knownTotal += observedCounts[k]!;
  const unknown = observedCounts.length > K ? observedCounts[K]! : 0;
  let l1 = 0;
  let maxShift = 0;
  let mostShifted = classes[0] ?? '';
  const baselineShares: Record<string, number> = {};
  const observedShares: Record<string, number> = {};
  for (let k = 0; k < K; k++) {
    const b = baseTotal > 0 ? baselineCounts[k]! / baseTotal : 0;
    const o = knownTotal > 0 ? observedCounts[k]! / knownTotal : 0;
    baselineShares[classes[k]!] = b;
    observedShares[classes[k]!] = o;
    const d = Math.abs(o - b);
    l1 += d;
    if (d > maxShift) {
      maxShift = d;
      mostShifted = classes[k]!;
    }
  }
  return {
    totalVariation: knownTotal > 0 ? l1 / 2 : 0,
    maxShift: knownTotal > 0 ? maxShift : 0,
    mostShifted,
    unknownShare: knownTotal + unknown > 0 ? unknown / (knownTotal + unknown) : 0,
    baselineShares,
    observedShares,
    observedRows: knownTotal + unknown,
    pValue: chiSquareHomogeneity(baselineCounts, Array.from({ length: K }, (_, k) => observedCounts[k]!)).pValue,
  };
}

// ---- JSON form ----

export interface LabelModelJson {
  readonly classes: readonly string[];
  readonly features: number;
  readonly thresholds: readonly number[];
  readonly classCounts: readonly number[];
  readonly fitFlagged: number | null;
  readonly folds: number;
  readonly seed: number;
  readonly logistic: { readonly weights: string };
  readonly trees: {
    readonly trees: number;
    readonly treeStart: string;
    readonly splitFeature: string;
    readonly splitValue: string;
    readonly leftChild: string;
    readonly rightChild: string;
    readonly leafShares: string;
  };
  readonly outOfFold?: { readonly rows: string; readonly probabilities: string };
}

export function labelModelToJson(model: LabelModel): LabelModelJson {
  const t = model.trees;
  return {
    classes: model.classes,
    features: model.features,
    thresholds: model.thresholds,
    classCounts: model.classCounts,
    fitFlagged: model.fitFlagged,
    folds: model.folds,
    seed: model.seed,
    logistic: { weights: typedToBase64(model.logistic.weights) },
    trees: {
      trees: t.trees,
      treeStart: typedToBase64(t.treeStart),
      splitFeature: typedToBase64(t.splitFeature),
      splitValue: typedToBase64(t.splitValue),
      leftChild: typedToBase64(t.leftChild),
      rightChild: typedToBase64(t.rightChild),
      leafShares: typedToBase64(t.leafShares),
    },
    ...(model.outOfFold
      ? { outOfFold: { rows: typedToBase64(model.outOfFold.rows), probabilities: typedToBase64(model.outOfFold.probabilities) } }
      : {}),
  };
}

function outOfFoldFromJson(json: unknown, classes: number): RowProbabilities {
  const o = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
  const rows = base64ToTyped<Float64Array>(o.rows, 'float64', 'labelModel.outOfFold.rows');
  const probabilities = base64ToTyped<Float64Array>(o.probabilities, 'float64', 'labelModel.outOfFold.probabilities');
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    if (!Number.isInteger(row) || row < 0 || (i > 0 && row <= rows[i - 1]!)) throw new InputError('labelModel.outOfFold.rows must be ascending row numbers');
  }
  if (probabilities.length !== rows.length * classes) throw new InputError(`labelModel.outOfFold.probabilities has ${probabilities.length} values, expected ${rows.length * classes}`);
  if (!probabilities.every((p) => p >= 0 && p <= 1)) throw new InputError('labelModel.outOfFold.probabilities must lie in [0, 1]');
  return { rows, probabilities };
}

function numberArray(value: unknown, what: string, length: number): number[] {
  if (!Array.isArray(value) || value.length !== length || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new InputError(`${what} must be an array of ${length} finite numbers`);
  }
  return value as number[];
}

/** Rebuilds a label model from its JSON form, checking shapes and tree links. */
export function labelModelFromJson(json: unknown): LabelModel {
  if (typeof json !== 'object' || json === null) throw new InputError('labelModel must be an object');
  const o = json as Record<string, unknown>;
  if (!Array.isArray(o.classes) || o.classes.length < 2 || !o.classes.every((c) => typeof c === 'string')) {
    throw new InputError('labelModel.classes must list at least 2 class names');
  }
  const classes = o.classes as string[];
  const K = classes.length;
  const features = o.features;
  if (typeof features !== 'number' || !Number.isInteger(features) || features < 1) throw new InputError('labelModel.features must be a positive integer');
  const thresholds = numberArray(o.thresholds, 'labelModel.thresholds', K);
  const classCounts = numberArray(o.classCounts, 'labelModel.classCounts', K);
  const fitFlagged = o.fitFlagged ?? null;
  if (fitFlagged !== null && !(typeof fitFlagged === 'number' && fitFlagged >= 0 && fitFlagged <= 1)) throw new InputError('labelModel.fitFlagged must be a share in [0, 1] or null');
  const folds = o.folds;
  const seed = o.seed;
  if (typeof folds !== 'number' || typeof seed !== 'number') throw new InputError('labelModel.folds and labelModel.seed must be numbers');
  const logisticJson = o.logistic as Record<string, unknown> | undefined;
  const weights = base64ToTyped<Float64Array>(logisticJson?.weights, 'float64', 'labelModel.logistic.weights');
  if (weights.length !== K * (features + 1)) throw new InputError(`labelModel.logistic.weights has ${weights.length} values, expected ${K * (features + 1)}`);
  const t = (o.trees ?? {}) as Record<string, unknown>;
  const trees = t.trees;
  if (typeof trees !== 'number' || !Number.isInteger(trees) || trees < 1) throw new InputError('labelModel.trees.trees must be a positive integer');
  const treeStart = base64ToTyped<Int32Array>(t.treeStart, 'int32', 'labelModel.trees.treeStart');
  const splitFeature = base64ToTyped<Int32Array>(t.splitFeature, 'int32', 'labelModel.trees.splitFeature');
  const splitValue = base64ToTyped<Float64Array>(t.splitValue, 'float64', 'labelModel.trees.splitValue');
  const leftChild = base64ToTyped<Int32Array>(t.leftChild, 'int32', 'labelModel.trees.leftChild');
  const rightChild = base64ToTyped<Int32Array>(t.rightChild, 'int32', 'labelModel.trees.rightChild');
  const leafShares = base64ToTyped<Float64Array>(t.leafShares, 'float64', 'labelModel.trees.leafShares');
  const nodes = splitFeature.length;
  if (treeStart.length !== trees + 1 || treeStart[0] !== 0 || treeStart[trees] !== nodes) throw new InputError('labelModel.trees.treeStart does not match the node arrays');
  if (splitValue.length !== nodes || leftChild.length !== nodes || rightChild.length !== nodes) throw new InputError('labelModel.trees node arrays differ in length');
  const leaves = leafShares.length / K;
  if (!Number.isInteger(leaves)) throw new InputError('labelModel.trees.leafShares is not a whole number of leaves');
  for (let tree = 0; tree < trees; tree++) {
    const start = treeStart[tree]!;
    const size = treeStart[tree + 1]! - start;
    if (size < 1) throw new InputError(`labelModel tree ${tree} is empty`);
    for (let i = 0; i < size; i++) {
      const node = start + i;
      const f = splitFeature[node]!;
      if (f === -1) {
        const leaf = leftChild[node]!;
        if (leaf < 0 || leaf >= leaves) throw new InputError(`labelModel tree ${tree} points to leaf ${leaf} of ${leaves}`);
        continue;
      }
      if (f < 0 || f >= features) throw new InputError(`labelModel tree ${tree} splits on feature ${f} of ${features}`);
      const l = leftChild[node]!;
      const r = rightChild[node]!;
      // Children point forward inside the tree, so every walk ends at a leaf.
      if (!(l > i && l < size && r > i && r < size)) throw new InputError(`labelModel tree ${tree} has a child index out of range`);
    }
  }
  return {
    classes,
    features,
    thresholds,
    classCounts,
    fitFlagged,
    folds,
    seed,
    logistic: { classes: K, features, weights },
    trees: { classes: K, features, trees, treeStart, splitFeature, splitValue, leftChild, rightChild, leafShares },
    ...(o.outOfFold === undefined ? {} : { outOfFold: outOfFoldFromJson(o.outOfFold, K) }),
  };
}
