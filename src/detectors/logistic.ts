// Multinomial logistic regression with an L2 penalty, fitted by L-BFGS on a column-major matrix
// of standardised features. Deterministic: no randomness, a fixed iteration order.
import { InputError } from '../core/errors.js';
import type { FeatureMatrix } from './features.js';

export interface LogisticOptions {
  /**
   * Penalty on the mean log-loss: l2 / 2 * |W|^2 (intercepts are not penalised).
   * Default 1 / rows, which is scikit-learn's C = 1.
   */
  readonly l2?: number;
  readonly maxIterations?: number;
  /** Stop when the largest gradient component falls below this (default 1e-6). */
  readonly tolerance?: number;
}

export interface LogisticModel {
  readonly classes: number;
  readonly features: number;
  /** Class-major: weights[k * (features + 1) + j]; j = features is the intercept. */
  readonly weights: Float64Array;
}

/** Fills `scores` (rows x classes, row-major) with class probabilities. */
export function predictLogistic(model: LogisticModel, matrix: FeatureMatrix, scores = new Float64Array(matrix.rows * model.classes)): Float64Array {
  if (matrix.cols !== model.features) throw new InputError(`the logistic model has ${model.features} features, the matrix ${matrix.cols}`);
  predictLogisticRows(model, matrix.data, matrix.rows, 0, matrix.rows, scores);
  return scores;
}

/**
 * Class probabilities of rows [start, end) of a column-major matrix with `stride` rows per column,
 * into out[0 .. (end - start) * classes): each row's numbers whatever the range around it.
 */
export function predictLogisticRows(model: LogisticModel, data: Float64Array, stride: number, start: number, end: number, out: Float64Array): void {
  linearScores(model.weights, model.classes, model.features, data, stride, start, end, out);
  softmaxRows(out.subarray(0, (end - start) * model.classes), model.classes);
}

/**
 * Linear class scores of rows [start, end), as predictLogisticRows lays them out. With `sparse`
 * (fitting, rows [0, stride)), a column listed there only visits its nonzero rows: the sum is the
 * same to the bit, as the rows skipped add w * 0.
 */
function linearScores(
  weights: Float64Array, classes: number, cols: number, data: Float64Array, stride: number, start: number, end: number, out: Float64Array,
  sparse?: readonly (SparseColumn | null)[],
): void {
  const width = cols + 1;
  const n = end - start;
  // One loop nest a function: each is optimised on its own, instead of the function being
  // compiled mid-loop and thrown away at the next loop, which has no type feedback yet.
  fillIntercepts(weights, classes, width, cols, n, out);
  const columnWeights = new Float64Array(classes);
  for (let j = 0; j < cols; j++) {
    let used = false;
    for (let k = 0; k < classes; k++) {
      const w = weights[k * width + j]!;
      columnWeights[k] = w;
      if (w !== 0) used = true;
    }
    if (!used) continue;
    const nonzero = sparse?.[j];
    if (nonzero) addWeightedAt(out, classes, columnWeights, nonzero);
    else addWeighted(out, classes, columnWeights, data, j * stride + start, n);
  }
}

// A column adds into a row's class scores, which sit side by side, up to four classes a pass,
// their weights held in locals (a loop over the classes reads each from memory every row: two to
// three times slower; a pass a class walks the column once for every class). Each score still
// gets one addition a column, in column order, and each sum its rows in order: the same numbers.

/** out[i * classes + k] += w[k] * x for the column's nonzero rows i and values x. */
function addWeightedAt(out: Float64Array, classes: number, w: Float64Array, column: SparseColumn): void {
  let k = 0;
  for (; k + 4 <= classes; k += 4) addWeightedAt4(out, classes, k, w[k]!, w[k + 1]!, w[k + 2]!, w[k + 3]!, column);
  if (k + 2 <= classes) {
    addWeightedAt2(out, classes, k, w[k]!, w[k + 1]!, column);
    k += 2;
  }
  if (k < classes) addWeightedAt1(out, classes, k, w[k]!, column);
}

function addWeightedAt4(out: Float64Array, classes: number, k: number, w0: number, w1: number, w2: number, w3: number, { rows, values }: SparseColumn): void {
  for (let t = 0; t < rows.length; t++) {
    const x = values[t]!;
    const o = rows[t]! * classes + k;
    out[o] = out[o]! + w0 * x;
    out[o + 1] = out[o + 1]! + w1 * x;
    out[o + 2] = out[o + 2]! + w2 * x;
    out[o + 3] = out[o + 3]! + w3 * x;
  }
}

function addWeightedAt2(out: Float64Array, classes: number, k: number, w0: number, w1: number, { rows, values }: SparseColumn): void {
  for (let t = 0; t < rows.length; t++) {
    const x = values[t]!;
    const o = rows[t]! * classes + k;
    out[o] = out[o]! + w0 * x;
    out[o + 1] = out[o + 1]! + w1 * x;
  }
}

function addWeightedAt1(out: Float64Array, classes: number, k: number, w: number, { rows, values }: SparseColumn): void {
  for (let t = 0; t < rows.length; t++) {
    const o = rows[t]! * classes + k;
    out[o] = out[o]! + w * values[t]!;
  }
}

/** out[i * classes + k] += w[k] * data[base + i] for i in [0, n). */
function addWeighted(out: Float64Array, classes: number, w: Float64Array, data: Float64Array, base: number, n: number): void {
  let k = 0;
  for (; k + 4 <= classes; k += 4) addWeighted4(out, classes, k, w[k]!, w[k + 1]!, w[k + 2]!, w[k + 3]!, data, base, n);
  if (k + 2 <= classes) {
    addWeighted2(out, classes, k, w[k]!, w[k + 1]!, data, base, n);
    k += 2;
  }
  if (k < classes) addWeighted1(out, classes, k, w[k]!, data, base, n);
}

function addWeighted4(out: Float64Array, classes: number, k: number, w0: number, w1: number, w2: number, w3: number, data: Float64Array, base: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const x = data[base + i]!;
    const o = i * classes + k;
    out[o] = out[o]! + w0 * x;
    out[o + 1] = out[o + 1]! + w1 * x;
    out[o + 2] = out[o + 2]! + w2 * x;
    out[o + 3] = out[o + 3]! + w3 * x;
  }
}

function addWeighted2(out: Float64Array, classes: number, k: number, w0: number, w1: number, data: Float64Array, base: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const x = data[base + i]!;
    const o = i * classes + k;
    out[o] = out[o]! + w0 * x;
    out[o + 1] = out[o + 1]! + w1 * x;
  }
}

function addWeighted1(out: Float64Array, classes: number, k: number, w: number, data: Float64Array, base: number, n: number): void {
  for (let i = 0; i < n; i++) out[i * classes + k] = out[i * classes + k]! + w * data[base + i]!;
}

/** A column's nonzero rows, ascending, and its values there. */
interface SparseColumn {
  readonly rows: Int32Array;
  readonly values: Float64Array;
}

/**
 * The nonzero rows of each column that is mostly zeros (one-hot categories, word flags), null
 * for the others. Walking only those rows makes a fit on wide one-hot data many times faster.
 */
function sparseColumns(data: Float64Array, rows: number, cols: number): (SparseColumn | null)[] {
  return Array.from({ length: cols }, (_, j) => {
    const base = j * rows;
    let nonzero = 0;
    for (let r = 0; r < rows; r++) if (data[base + r] !== 0) nonzero++;
    if (nonzero > rows / 4) return null;
    const column = { rows: new Int32Array(nonzero), values: new Float64Array(nonzero) };
    for (let r = 0, t = 0; r < rows; r++) {
      if (data[base + r] !== 0) {
        column.rows[t] = r;
        column.values[t++] = data[base + r]!;
      }
    }
    return column;
  });
}

/** sums[k] = sum of scores[i * classes + k] * x over the column's nonzero rows i and values x. */
function weightedSumsAt(scores: Float64Array, classes: number, column: SparseColumn, sums: Float64Array): void {
  let k = 0;
  for (; k + 4 <= classes; k += 4) weightedSumsAt4(scores, classes, k, column, sums);
  if (k + 2 <= classes) {
    weightedSumsAt2(scores, classes, k, column, sums);
    k += 2;
  }
  if (k < classes) weightedSumsAt1(scores, classes, k, column, sums);
}

function weightedSumsAt4(scores: Float64Array, classes: number, k: number, { rows, values }: SparseColumn, sums: Float64Array): void {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let t = 0; t < rows.length; t++) {
    const x = values[t]!;
    const o = rows[t]! * classes + k;
    s0 += scores[o]! * x;
    s1 += scores[o + 1]! * x;
    s2 += scores[o + 2]! * x;
    s3 += scores[o + 3]! * x;
  }
  sums[k] = s0;
  sums[k + 1] = s1;
  sums[k + 2] = s2;
  sums[k + 3] = s3;
}

function weightedSumsAt2(scores: Float64Array, classes: number, k: number, { rows, values }: SparseColumn, sums: Float64Array): void {
  let s0 = 0;
  let s1 = 0;
  for (let t = 0; t < rows.length; t++) {
    const x = values[t]!;
    const o = rows[t]! * classes + k;
    s0 += scores[o]! * x;
    s1 += scores[o + 1]! * x;
  }
  sums[k] = s0;
  sums[k + 1] = s1;
}

function weightedSumsAt1(scores: Float64Array, classes: number, k: number, { rows, values }: SparseColumn, sums: Float64Array): void {
  let s0 = 0;
  for (let t = 0; t < rows.length; t++) s0 += scores[rows[t]! * classes + k]! * values[t]!;
  sums[k] = s0;
}

/** sums[k] = sum over i in [0, n) of scores[i * classes + k] * data[base + i], four classes a pass as addWeighted. */
function weightedSums(scores: Float64Array, classes: number, data: Float64Array, base: number, n: number, sums: Float64Array): void {
  let k = 0;
  for (; k + 4 <= classes; k += 4) weightedSums4(scores, classes, k, data, base, n, sums);
  if (k + 2 <= classes) {
    weightedSums2(scores, classes, k, data, base, n, sums);
    k += 2;
  }
  if (k < classes) weightedSums1(scores, classes, k, data, base, n, sums);
}

function weightedSums4(scores: Float64Array, classes: number, k: number, data: Float64Array, base: number, n: number, sums: Float64Array): void {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let i = 0; i < n; i++) {
    const x = data[base + i]!;
    const o = i * classes + k;
    s0 += scores[o]! * x;
    s1 += scores[o + 1]! * x;
    s2 += scores[o + 2]! * x;
    s3 += scores[o + 3]! * x;
  }
  sums[k] = s0;
  sums[k + 1] = s1;
  sums[k + 2] = s2;
  sums[k + 3] = s3;
}

function weightedSums2(scores: Float64Array, classes: number, k: number, data: Float64Array, base: number, n: number, sums: Float64Array): void {
  let s0 = 0;
  let s1 = 0;
  for (let i = 0; i < n; i++) {
    const x = data[base + i]!;
    const o = i * classes + k;
    s0 += scores[o]! * x;
    s1 += scores[o + 1]! * x;
  }
  sums[k] = s0;
  sums[k + 1] = s1;
}

function weightedSums1(scores: Float64Array, classes: number, k: number, data: Float64Array, base: number, n: number, sums: Float64Array): void {
  let s0 = 0;
  for (let i = 0; i < n; i++) s0 += scores[i * classes + k]! * data[base + i]!;
  sums[k] = s0;
}

/** sums[k] = sum over i in [0, n) of scores[i * classes + k]. */
function interceptSums(scores: Float64Array, classes: number, n: number, sums: Float64Array): void {
  sums.fill(0);
  for (let i = 0; i < n; i++) {
    const o = i * classes;
    for (let k = 0; k < classes; k++) sums[k] = sums[k]! + scores[o + k]!;
  }
}

function fillIntercepts(weights: Float64Array, classes: number, width: number, cols: number, n: number, out: Float64Array): void {
  for (let i = 0; i < n; i++) for (let k = 0; k < classes; k++) out[i * classes + k] = weights[k * width + cols]!;
}

/** Softmax of each row in place; returns the summed log-sum-exp (for the loss). */
function softmaxRows(scores: Float64Array, classes: number): number {
  let total = 0;
  const rows = scores.length / classes;
  for (let r = 0; r < rows; r++) {
    const o = r * classes;
    let max = -Infinity;
    for (let k = 0; k < classes; k++) if (scores[o + k]! > max) max = scores[o + k]!;
    let sum = 0;
    for (let k = 0; k < classes; k++) {
      const e = Math.exp(scores[o + k]! - max);
      scores[o + k] = e;
      sum += e;
    }
    for (let k = 0; k < classes; k++) scores[o + k] = scores[o + k]! / sum;
    total += max + Math.log(sum);
  }
  return total;
}

/** Fits on rows whose label is in [0, classes); labels must be given for every row. */
export function fitLogistic(matrix: FeatureMatrix, labels: Int32Array, classes: number, options: LogisticOptions = {}): LogisticModel {
  const { rows, cols, data } = matrix;
  if (labels.length !== rows) throw new InputError(`${labels.length} labels for ${rows} rows`);
  if (rows === 0) throw new InputError('cannot fit a logistic model on no rows');
  const l2 = options.l2 ?? 1 / rows;
  const maxIterations = options.maxIterations ?? 300;
  const tolerance = options.tolerance ?? 1e-6;
  const width = cols + 1;
  const size = classes * width;
  const scores = new Float64Array(rows * classes);
  const sparse = sparseColumns(data, rows, cols);
  const sums = new Float64Array(classes);

  // Mean log-loss plus penalty, and its gradient into `gradient`.
  const evaluate = (w: Float64Array, gradient: Float64Array): number => {
    linearScores(w, classes, cols, data, rows, 0, rows, scores, sparse);
    let loss = 0;
    for (let r = 0; r < rows; r++) loss -= scores[r * classes + labels[r]!]!;
    loss += softmaxRows(scores, classes);
    for (let r = 0; r < rows; r++) scores[r * classes + labels[r]!] = scores[r * classes + labels[r]!]! - 1;
    for (let j = 0; j < cols; j++) {
      const nonzero = sparse[j];
      if (nonzero) weightedSumsAt(scores, classes, nonzero, sums);
      else weightedSums(scores, classes, data, j * rows, rows, sums);
      for (let k = 0; k < classes; k++) gradient[k * width + j] = sums[k]! / rows;
    }
    interceptSums(scores, classes, rows, sums);
    for (let k = 0; k < classes; k++) gradient[k * width + cols] = sums[k]! / rows;
    let penalty = 0;
    for (let k = 0; k < classes; k++) {
      for (let j = 0; j < cols; j++) {
        const v = w[k * width + j]!;
        penalty += v * v;
        gradient[k * width + j] = gradient[k * width + j]! + l2 * v;
      }
    }
    return loss / rows + 0.5 * l2 * penalty;
  };

  const weights = minimiseLbfgs(evaluate, size, maxIterations, tolerance);
  return { classes, features: cols, weights };
}

/** Limited-memory BFGS (10 pairs) with a backtracking Armijo line search, from zero. */
function minimiseLbfgs(evaluate: (x: Float64Array, gradient: Float64Array) => number, size: number, maxIterations: number, tolerance: number): Float64Array {
  const memory = 10;
  let x = new Float64Array(size);
  let g = new Float64Array(size);
  let f = evaluate(x, g);
  const sHistory: Float64Array[] = [];
  const yHistory: Float64Array[] = [];
  const rho: number[] = [];
  const direction = new Float64Array(size);
  const alpha = new Float64Array(memory);
  let xNext = new Float64Array(size);
  let gNext = new Float64Array(size);
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    if (maxAbs(g) < tolerance) break;
    // Two-loop recursion: direction = -H g.
    for (let i = 0; i < size; i++) direction[i] = -g[i]!;
    for (let h = sHistory.length - 1; h >= 0; h--) {
      const a = rho[h]! * dot(sHistory[h]!, direction);
      alpha[h] = a;
      axpy(-a, yHistory[h]!, direction);
    }
    if (sHistory.length > 0) {
      const last = sHistory.length - 1;
      const gamma = dot(sHistory[last]!, yHistory[last]!) / dot(yHistory[last]!, yHistory[last]!);
      for (let i = 0; i < size; i++) direction[i] = direction[i]! * gamma;
    }
    for (let h = 0; h < sHistory.length; h++) {
      const b = rho[h]! * dot(yHistory[h]!, direction);
      axpy(alpha[h]! - b, sHistory[h]!, direction);
    }
    let slope = dot(g, direction);
    if (!(slope < 0)) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      sHistory.length = 0;
      yHistory.length = 0;
      rho.length = 0;
      for (let i = 0; i < size; i++) direction[i] = -g[i]!;
      slope = dot(g, direction);
    }
    let step = sHistory.length === 0 ? Math.min(1, 1 / Math.sqrt(-slope)) : 1;
    let fNext = Infinity;
    for (let tries = 0; tries < 40; tries++) {
      for (let i = 0; i < size; i++) xNext[i] = x[i]! + step * direction[i]!;
      fNext = evaluate(xNext, gNext);
      if (fNext <= f + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    if (!(fNext <= f)) break; // no progress possible
    const s = new Float64Array(size);
    const y = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      s[i] = xNext[i]! - x[i]!;
      y[i] = gNext[i]! - g[i]!;
    }
    const sy = dot(s, y);
    if (sy > 1e-12) {
      if (sHistory.length === memory) {
        sHistory.shift();
        yHistory.shift();
        rho.shift();
      }
      sHistory.push(s);
      yHistory.push(y);
      rho.push(1 / sy);
    }
    const improvement = f - fNext;
    [x, xNext] = [xNext, x];
    [g, gNext] = [gNext, g];
    f = fNext;
    if (improvement <= 1e-12 * Math.max(1, Math.abs(f))) break;
  }
  return x;
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < x.length; i++) y[i] = y[i]! + a * x[i]!;
}

function maxAbs(a: Float64Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i]!);
    if (v > max) max = v;
  }
  return max;
}
