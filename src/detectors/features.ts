// Turns a batch's columns into a numeric, column-major matrix for the detectors, with every
// parameter fitted once on trusted rows so that later batches are encoded the same way.
// Two encodings share one fitted encoder:
//   'raw'          for the isolation forest: numbers as they are, categories as their baseline
//                  frequency (a rare or unseen category becomes a small number, easy to isolate);
//   'standardised' for the label model: numbers as z-scores, categories one-hot, and free-text
//                  columns (mostly distinct strings) as 0/1 flags of their frequent words.
// Nulls never reach a score as NaN: numbers take the baseline median (raw) or mean (standardised),
// and a column that had nulls in the baseline gets a 0/1 missing indicator.
import { InputError } from '../core/errors.js';
import { dictionaryOf, recode } from '../core/string-dictionary.js';
import type { Batch, Column, LogicalType } from '../core/types.js';

export type EncodingMode = 'raw' | 'standardised';

/** A column-major matrix: the value of row r, feature c is data[c * rows + r]. */
export interface FeatureMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
  readonly names: readonly string[];
}

export interface NumericFeature {
  readonly kind: 'numeric';
  readonly column: string;
  readonly type: LogicalType;
  /** Replaces nulls in the raw encoding: the baseline median. */
  readonly median: number;
  readonly mean: number;
  /** The baseline standard deviation (never 0: constant columns are dropped). */
  readonly scale: number;
  /** The baseline had nulls: add a 0/1 `<column>:missing` feature. */
  readonly missingIndicator: boolean;
}

export interface CategoricalFeature {
  readonly kind: 'categorical';
  readonly column: string;
  readonly type: LogicalType;
  /** Baseline categories, most frequent first (ties by name), with their share of baseline rows. */
  readonly categories: readonly string[];
  readonly frequencies: readonly number[];
  /** How many of `categories` (the most frequent) get a one-hot column. */
  readonly oneHot: number;
  /** Share of baseline rows that were null (the raw encoding of a null). */
  readonly missingFrequency: number;
  readonly missingIndicator: boolean;
}

/**
 * A string column of mostly distinct values (names, titles): too many values to one-hot, but its
 * frequent words can carry signal (a car's make in its name). Only the label model uses it.
 */
export interface TextFeature {
  readonly kind: 'text';
  readonly column: string;
  readonly type: LogicalType;
  /** Lower-case words found in at least `minCategoryRows` baseline rows, most frequent first. */
  readonly tokens: readonly string[];
}

export type EncodedFeature = NumericFeature | CategoricalFeature | TextFeature;

export type DropReason = 'missing' | 'all-null' | 'constant' | 'high-cardinality';

export interface DroppedColumn {
  readonly column: string;
  readonly reason: DropReason;
  readonly message: string;
}

/** JSON-safe: can be stored as it is in a model bundle. */
export interface FeatureEncoder {
  readonly version: 1;
  readonly fittedRows: number;
  readonly features: readonly EncodedFeature[];
  readonly dropped: readonly DroppedColumn[];
}

export interface FeatureEncoderOptions {
  /** Columns to encode (default: every column given). */
  readonly columns?: readonly string[];
  /** Most one-hot columns per categorical column (default 32). */
  readonly maxOneHot?: number;
  /** A category needs this many baseline rows for its own one-hot column (default 5). */
  readonly minCategoryRows?: number;
  /**
   * A string column whose distinct values exceed this share of its non-null rows (and 50 values)
   * is free text or an identifier: encoded by its frequent words, or dropped when no word recurs
   * (default 0.5).
   */
  readonly maxDistinctShare?: number;
  /** Categories kept in the encoder for frequency lookups (default 10,000; the rest count as unseen). */
  readonly maxCategories?: number;
}

/** The value of a cell as a category key (null for a missing value); shared by every detector. */
export function cellKey(column: Column, row: number): string | null {
  if (column.valid !== null && column.valid[row] !== 1) return null;
  switch (column.type) {
    case 'string':
      return column.values[row]!;
    case 'bool':
      return column.values[row] === 1 ? 'true' : 'false';
    default: {
      const value = column.values[row]!;
      return Number.isNaN(value) ? null : String(value);
    }
  }
}

/**
 * The index in `keys` of each cell's key (cellKey), -1 for a missing cell or a key not listed.
 * Numbers are matched as numbers, so no row builds a string.
 */
export function classCodes(column: Column, keys: readonly string[]): Int32Array {
  const rows = column.values.length;
  const codes = new Int32Array(rows).fill(-1);
  const valid = column.valid;
  if (column.type === 'string') {
    const dictionary = dictionaryOf(column);
    const codeOf = recode(dictionary, new Map(keys.map((k, i) => [k, i])), -1);
    const rowCodes = dictionary.codes;
    for (let r = 0; r < rows; r++) if (valid === null || valid[r] === 1) codes[r] = codeOf[rowCodes[r]!]!;
    return codes;
  }
  if (column.type === 'bool') {
    const yes = keys.lastIndexOf('true');
    const no = keys.lastIndexOf('false');
    const values = column.values;
    for (let r = 0; r < rows; r++) if (valid === null || valid[r] === 1) codes[r] = values[r] === 1 ? yes : no;
    return codes;
  }
  // A key matches a number when it is that number's text: String(v) === key exactly when
  // v === Number(key) and the key is its number's own text (so '1.0' never matches 1).
  const index = new Map<number, number>();
  keys.forEach((k, i) => {
    const x = Number(k);
    if (!Number.isNaN(x) && String(x) === k) index.set(x, i);
  });
  const values = column.values;
  for (let r = 0; r < rows; r++) {
    if (valid !== null && valid[r] !== 1) continue;
    const v = values[r]!;
    if (!Number.isNaN(v)) codes[r] = index.get(v) ?? -1;
  }
  return codes;
}

/** The numeric value of a cell, NaN when missing or not finite. */
export function cellNumber(column: Column, row: number): number {
  if (column.valid !== null && column.valid[row] !== 1) return NaN;
  if (column.type === 'string') return NaN;
  const value = column.values[row]!;
  return Number.isFinite(value) ? value : NaN;
}

function isNumericLike(type: LogicalType): boolean {
  return type !== 'string';
}

/** The distinct lower-case words of a text value. */
export function textTokens(text: string): Set<string> {
  const tokens = new Set<string>();
  for (const word of text.toLowerCase().split(/[^\p{L}\p{N}]+/u)) if (word !== '') tokens.add(word);
  return tokens;
}

function fitTokens(column: Column, present: number, maxTokens: number, minRows: number): string[] {
  const counts = new Map<string, number>();
  for (let r = 0; r < column.values.length; r++) {
    const key = cellKey(column, r);
    if (key === null) continue;
    for (const token of textTokens(key)) counts.set(token, (counts.get(token) ?? 0) + 1);
  }
  return [...counts.entries()]
    .filter((e) => e[1] >= minRows && e[1] < present)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, maxTokens)
    .map((e) => e[0]);
}

export function fitFeatureEncoder(columns: readonly Column[], options: FeatureEncoderOptions = {}): FeatureEncoder {
  const maxOneHot = options.maxOneHot ?? 32;
  const minCategoryRows = options.minCategoryRows ?? 5;
  const maxDistinctShare = options.maxDistinctShare ?? 0.5;
  const maxCategories = options.maxCategories ?? 10_000;
  const byName = new Map(columns.map((c) => [c.name, c]));
  const wanted = options.columns ?? columns.map((c) => c.name);
  const rows = columns.length > 0 ? columns[0]!.values.length : 0;
  const features: EncodedFeature[] = [];
  const dropped: DroppedColumn[] = [];

  for (const name of wanted) {
    const column = byName.get(name);
    if (column === undefined) {
      dropped.push({ column: name, reason: 'missing', message: `column '${name}' is not in the fitting sample` });
      continue;
    }
    const n = column.values.length;
    if (isNumericLike(column.type)) {
      const present: number[] = [];
      for (let r = 0; r < n; r++) {
        const v = cellNumber(column, r);
        if (!Number.isNaN(v)) present.push(v);
      }
      if (present.length === 0) {
        dropped.push({ column: name, reason: 'all-null', message: `column '${name}' has no usable value in ${n} fitting rows` });
        continue;
      }
      let sum = 0;
      for (const v of present) sum += v;
      const mean = sum / present.length;
      let squares = 0;
      for (const v of present) squares += (v - mean) * (v - mean);
      const scale = Math.sqrt(squares / present.length);
      // A relative test: a timestamp column of one instant has a huge mean and rounding noise.
      if (!(scale > 1e-12 * Math.max(1, Math.abs(mean)))) {
        dropped.push({ column: name, reason: 'constant', message: `column '${name}' holds one value (${present[0]}) in every fitting row` });
        continue;
      }
      const sorted = Float64Array.from(present).sort();
      const mid = sorted.length >> 1;
      const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
      features.push({
        kind: 'numeric',
        column: name,
        type: column.type,
        median,
        mean,
        scale,
        missingIndicator: present.length < n,
      });
      continue;
    }

    const counts = new Map<string, number>();
    let missing = 0;
    for (let r = 0; r < n; r++) {
      const key = cellKey(column, r);
      if (key === null) missing++;
      else counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const present = n - missing;
    if (present === 0) {
      dropped.push({ column: name, reason: 'all-null', message: `column '${name}' has no usable value in ${n} fitting rows` });
      continue;
    }
    if (counts.size === 1 && missing === 0) {
      dropped.push({ column: name, reason: 'constant', message: `column '${name}' holds one value ('${[...counts.keys()][0]}') in every fitting row` });
      continue;
    }
    if (counts.size > 50 && counts.size > maxDistinctShare * present) {
      const tokens = fitTokens(column, present, maxOneHot, minCategoryRows);
      if (tokens.length > 0) {
        features.push({ kind: 'text', column: name, type: column.type, tokens });
        continue;
      }
      dropped.push({
        column: name,
        reason: 'high-cardinality',
        message: `column '${name}' has ${counts.size} distinct values in ${present} rows and no recurring word (an identifier?)`,
      });
      continue;
    }
    const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, maxCategories);
    let oneHot = 0;
    while (oneHot < ranked.length && oneHot < maxOneHot && ranked[oneHot]![1] >= minCategoryRows) oneHot++;
    // With every category one-hot, the last one is implied by the others (and the intercept).
    if (oneHot === ranked.length && missing === 0) oneHot--;
    features.push({
      kind: 'categorical',
      column: name,
      type: column.type,
      categories: ranked.map((e) => e[0]),
      frequencies: ranked.map((e) => e[1] / n),
      oneHot,
      missingFrequency: missing / n,
      missingIndicator: missing > 0,
    });
  }
  return { version: 1, fittedRows: rows, features, dropped };
}

/** The names of the matrix columns an encoding produces, in order. */
export function featureNames(encoder: FeatureEncoder, mode: EncodingMode): string[] {
  const names: string[] = [];
  for (const f of encoder.features) {
    if (f.kind === 'numeric') {
      names.push(f.column);
      if (f.missingIndicator) names.push(`${f.column}:missing`);
    } else if (f.kind === 'text') {
      // Word flags are for the label model; the forest does not see free text.
      if (mode === 'standardised') for (const token of f.tokens) names.push(`${f.column}~${token}`);
    } else if (mode === 'raw') {
      names.push(f.column);
    } else {
      for (let i = 0; i < f.oneHot; i++) names.push(`${f.column}=${f.categories[i]}`);
      if (f.missingIndicator) names.push(`${f.column}:missing`);
    }
  }
  return names;
}

// Category and word lookups are built once per fitted feature, not stored in the JSON.
const lookups = new WeakMap<CategoricalFeature | TextFeature, Map<string, number>>();

function categoryIndex(feature: CategoricalFeature | TextFeature): Map<string, number> {
  let index = lookups.get(feature);
  if (index === undefined) {
    const keys = feature.kind === 'text' ? feature.tokens : feature.categories;
    index = new Map(keys.map((c, i) => [c, i]));
    lookups.set(feature, index);
  }
  return index;
}

function columnFor(batch: Batch, feature: EncodedFeature): Column {
  const column = batch.byName.get(feature.column);
  if (column === undefined) {
    throw new InputError(`the model was fitted on column '${feature.column}', which this batch does not have`, { subject: feature.column });
  }
  if (feature.kind === 'text' && column.type !== 'string') {
    throw new InputError(`the model was fitted on '${feature.column}' as text, but the batch holds ${column.type} values`, { subject: feature.column });
  }
  if (feature.kind === 'numeric' && column.type === 'string') {
    throw new InputError(`the model was fitted on '${feature.column}' as ${feature.type}, but the batch holds strings`, { subject: feature.column });
  }
  return column;
}

/**
 * Encodes rows of a batch with a fitted encoder (no NaN in the output). `allocate` gives the
 * matrix's zeroed storage (shared memory, for scoring threads to read it where it is).
 */
export function encodeFeatures(
  encoder: FeatureEncoder,
  batch: Batch,
  mode: EncodingMode,
  allocate: (length: number) => Float64Array = (length) => new Float64Array(length),
): FeatureMatrix {
  const rows = batch.rowCount;
  const names = featureNames(encoder, mode);
  const data = allocate(names.length * rows);
  // Each kind of column is encoded by a function of its own, so that each loop is optimised on
  // its own (one function holding them all is compiled in the middle of one and thrown away at
  // the next, which has no type feedback yet).
  let c = 0;
  for (const feature of encoder.features) {
    const column = columnFor(batch, feature);
    if (feature.kind === 'numeric') {
      encodeNumeric(feature, column, mode, rows, data, c);
      c += feature.missingIndicator ? 2 : 1;
    } else if (feature.kind === 'text') {
      if (mode === 'raw') continue;
      encodeText(feature, column, rows, data, c);
      c += feature.tokens.length;
    } else if (mode === 'raw') {
      encodeFrequencies(feature, column, rows, data, c);
      c += 1;
    } else {
      encodeOneHot(feature, column, rows, data, c);
      c += feature.oneHot + (feature.missingIndicator ? 1 : 0);
    }
  }
  return { rows, cols: names.length, data, names };
}

/** A numeric column into matrix column c (and its missing indicator into c + 1). */
function encodeNumeric(feature: NumericFeature, column: Column, mode: EncodingMode, rows: number, data: Float64Array, c: number): void {
  const base = c * rows;
  const indicator = feature.missingIndicator ? (c + 1) * rows : -1;
  const fill = mode === 'raw' ? feature.median : 0;
  const shift = mode === 'raw' ? 0 : feature.mean;
  const factor = mode === 'raw' ? 1 : 1 / feature.scale;
  const values = column.values as Float64Array | Uint8Array;
  const valid = column.valid;
  const allFinite = encodePresent(values, rows, data, base, shift, factor);
  if (allFinite && (valid === null || allSet(valid, rows))) return;
  fillMissing(values, valid, rows, data, base, indicator, fill);
}

/**
 * Every row encoded as if present, in a loop without a branch (one with a branch a row ran at
 * about twice the time); whether every value was finite (v * 0 is 0 for a finite v, else NaN).
 * The loop is the whole function: V8 compiles a long loop while it runs (on-stack replacement),
 * before the code after it has ever run, and code after it without type feedback threw that
 * compiled loop away at the end of every call.
 */
function encodePresent(values: Float64Array | Uint8Array, rows: number, data: Float64Array, base: number, shift: number, factor: number): boolean {
  let notFinite = 0;
  for (let r = 0; r < rows; r++) {
    const v = values[r]!;
    data[base + r] = (v - shift) * factor;
    notFinite += v * 0;
  }
  return notFinite === 0;
}

/**
 * As cellNumber: a missing or non-finite value takes the fill, and its indicator (when there is
 * one, at `indicator`) is set. A function of its own, so that the loop has type feedback when it
 * is first optimised (inside encodeNumeric, whose first columns need no fixing, it had none, and
 * its optimised code was thrown away again at every batch with a missing value).
 */
function fillMissing(values: Float64Array | Uint8Array, valid: Uint8Array | null, rows: number, data: Float64Array, base: number, indicator: number, fill: number): void {
  for (let r = 0; r < rows; r++) {
    if ((valid !== null && valid[r] !== 1) || !Number.isFinite(values[r]!)) {
      data[base + r] = fill;
      if (indicator >= 0) data[indicator + r] = 1;
    }
  }
}

/** Whether flags[0 .. rows) are all 1. */
function allSet(flags: Uint8Array, rows: number): boolean {
  let product = 1;
  for (let r = 0; r < rows; r++) product &= flags[r]!;
  return product === 1;
}

/** Word flags of a text column into matrix columns c, c + 1, ... */
function encodeText(feature: TextFeature, column: Column, rows: number, data: Float64Array, c: number): void {
  const index = categoryIndex(feature);
  for (let r = 0; r < rows; r++) {
    const key = cellKey(column, r);
    if (key === null) continue;
    for (const token of textTokens(key)) {
      const i = index.get(token);
      if (i !== undefined) data[(c + i) * rows + r] = 1;
    }
  }
}

/**
 * A categorical column's rows as indexes into `index` (-1: a value it lacks, -2: a missing row).
 * Strings go through the batch's dictionary; numbers and booleans as their cell keys.
 */
function categoryCodes(column: Column, rows: number, index: ReadonlyMap<string, number>): Int32Array {
  const out = new Int32Array(rows);
  const valid = column.valid;
  if (column.type === 'string') {
    const dictionary = dictionaryOf(column);
    const codeOf = recode(dictionary, index, -1);
    const codes = dictionary.codes;
    for (let r = 0; r < rows; r++) out[r] = valid !== null && valid[r] !== 1 ? -2 : codeOf[codes[r]!]!;
    return out;
  }
  for (let r = 0; r < rows; r++) {
    const key = valid !== null && valid[r] !== 1 ? null : cellKey(column, r);
    out[r] = key === null ? -2 : (index.get(key) ?? -1);
  }
  return out;
}

/** A categorical column as its baseline frequencies (raw encoding) into matrix column c. */
function encodeFrequencies(feature: CategoricalFeature, column: Column, rows: number, data: Float64Array, c: number): void {
  const codes = categoryCodes(column, rows, categoryIndex(feature));
  const base = c * rows;
  for (let r = 0; r < rows; r++) {
    const i = codes[r]!;
    data[base + r] = i === -2 ? feature.missingFrequency : i === -1 ? 0 : feature.frequencies[i]!;
  }
}

/** A categorical column one-hot (and its missing indicator) into matrix columns c, c + 1, ... */
function encodeOneHot(feature: CategoricalFeature, column: Column, rows: number, data: Float64Array, c: number): void {
  const codes = categoryCodes(column, rows, categoryIndex(feature));
  const indicator = feature.missingIndicator ? (c + feature.oneHot) * rows : -1;
  for (let r = 0; r < rows; r++) {
    const i = codes[r]!;
    if (i === -2) {
      if (indicator >= 0) data[indicator + r] = 1;
    } else if (i >= 0 && i < feature.oneHot) {
      data[(c + i) * rows + r] = 1;
    }
  }
}

/** Rows [start, end) of a matrix as a new matrix. */
export function sliceRows(matrix: FeatureMatrix, start: number, end: number): FeatureMatrix {
  const rows = end - start;
  const data = new Float64Array(rows * matrix.cols);
  for (let c = 0; c < matrix.cols; c++) data.set(matrix.data.subarray(c * matrix.rows + start, c * matrix.rows + end), c * rows);
  return { rows, cols: matrix.cols, data, names: matrix.names };
}

/** The given rows of a matrix, in the given order, as a new matrix. */
export function takeRows(matrix: FeatureMatrix, indices: ArrayLike<number>): FeatureMatrix {
  const rows = indices.length;
  const data = new Float64Array(rows * matrix.cols);
  for (let c = 0; c < matrix.cols; c++) {
    const from = c * matrix.rows;
    const to = c * rows;
    for (let i = 0; i < rows; i++) data[to + i] = matrix.data[from + indices[i]!]!;
  }
  return { rows, cols: matrix.cols, data, names: matrix.names };
}

/** Builds a matrix from row-major number arrays (tests and benches). */
export function matrixFromRows(rowsOfValues: readonly (readonly number[])[], names?: readonly string[]): FeatureMatrix {
  const rows = rowsOfValues.length;
  const cols = rows > 0 ? rowsOfValues[0]!.length : (names?.length ?? 0);
  const data = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const row = rowsOfValues[r]!;
    if (row.length !== cols) throw new RangeError(`row ${r} has ${row.length} values, expected ${cols}`);
    for (let c = 0; c < cols; c++) data[c * rows + r] = row[c]!;
  }
  return { rows, cols, data, names: names ?? Array.from({ length: cols }, (_, c) => `f${c}`) };
}

/** Validates an encoder read from a model file (the JSON form is the encoder itself). */
export function featureEncoderFromJson(json: unknown): FeatureEncoder {
  const fail = (message: string): never => {
    throw new InputError(`encoder: ${message}`);
  };
  if (typeof json !== 'object' || json === null) fail('must be an object');
  const o = json as Record<string, unknown>;
  if (o.version !== 1) fail(`version must be 1, got ${String(o.version)}`);
  if (typeof o.fittedRows !== 'number') fail('fittedRows must be a number');
  if (!Array.isArray(o.features) || !Array.isArray(o.dropped)) fail('features and dropped must be arrays');
  const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  const strings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');
  for (const f of o.features as Record<string, unknown>[]) {
    const name = typeof f?.column === 'string' ? f.column : fail('a feature has no column name');
    if (f.kind === 'numeric') {
      if (!finite(f.median) || !finite(f.mean) || !finite(f.scale) || !((f.scale as number) > 0) || typeof f.missingIndicator !== 'boolean') {
        fail(`numeric feature '${name}' needs finite median, mean, a positive scale and missingIndicator`);
      }
    } else if (f.kind === 'categorical') {
      const categories = f.categories as unknown[];
      const frequencies = f.frequencies as unknown[];
      if (!strings(categories) || !Array.isArray(frequencies) || frequencies.length !== categories.length || !frequencies.every(finite)) {
        fail(`categorical feature '${name}' needs categories with one frequency each`);
      }
      if (typeof f.oneHot !== 'number' || !Number.isInteger(f.oneHot) || f.oneHot < 0 || f.oneHot > categories.length) fail(`categorical feature '${name}' has a bad oneHot count`);
      if (!finite(f.missingFrequency) || typeof f.missingIndicator !== 'boolean') fail(`categorical feature '${name}' needs missingFrequency and missingIndicator`);
    } else if (f.kind === 'text') {
      if (!strings(f.tokens)) fail(`text feature '${name}' needs tokens`);
    } else {
      fail(`feature '${name}' has unknown kind '${String(f.kind)}'`);
    }
  }
  return json as FeatureEncoder;
}
