// Per-column drift against a baseline. Numeric columns: the population stability index (PSI)
// over bins on baseline quantiles. Categorical columns (strings, booleans): Jensen-Shannon
// distance and the largest change of one category's share (L-infinity). Nulls have a slot of
// their own in every histogram, so a change in the null rate is drift too.
// The scan side is a histogram per column: counts add across batches and merge across workers.
import { InputError } from '../core/errors.js';
import { dictionaryOf, recode } from '../core/string-dictionary.js';
import type { Batch, Column, Severity } from '../core/types.js';
import { chiSquareHomogeneity } from './chi-square.js';
import { EdgeLookup } from './edges.js';
import { cellKey, cellNumber } from './features.js';

export interface DriftBaselineOptions {
  /** Quantile bins per numeric column (default 10). */
  readonly bins?: number;
  /** Most frequent baseline categories kept per categorical column; the rest share one slot (default 50). */
  readonly maxCategories?: number;
}

export interface DriftThresholds {
  readonly psi?: { readonly warn?: number; readonly fail?: number };
  readonly js?: { readonly warn?: number; readonly fail?: number };
  readonly linf?: { readonly warn?: number; readonly fail?: number };
  /** Fewer scanned rows than this give no verdict (default 100). */
  readonly minRows?: number;
  /**
   * Chance that a scan of unchanged data warns on any column (default 0.01): a column's
   * statistic over its limit counts only when its chi-square p-value is below alpha divided by
   * the number of columns judged.
   */
  readonly alpha?: number;
}

export const DEFAULT_DRIFT_THRESHOLDS = {
  psi: { warn: 0.1, fail: 0.25 },
  js: { warn: 0.1, fail: 0.2 },
  linf: { warn: 0.1, fail: 0.2 },
  minRows: 100,
  alpha: 0.01,
} as const;

export interface NumericDriftBaseline {
  readonly kind: 'numeric';
  readonly column: string;
  /** Inner edges, ascending: bin i holds [edges[i-1], edges[i]); the last slot counts nulls. */
  readonly edges: readonly number[];
  /** edges.length + 2 counts (bins, then nulls). */
  readonly counts: readonly number[];
}

export interface CategoricalDriftBaseline {
  readonly kind: 'categorical';
  readonly column: string;
  readonly categories: readonly string[];
  /** categories.length + 2 counts (categories, every other value, nulls). */
  readonly counts: readonly number[];
}

export type DriftColumnBaseline = NumericDriftBaseline | CategoricalDriftBaseline;

/** JSON-safe. */
export interface DriftBaseline {
  readonly version: 1;
  readonly rows: number;
  readonly columns: readonly DriftColumnBaseline[];
}

export interface ColumnDrift {
  readonly column: string;
  readonly kind: 'numeric' | 'categorical';
  readonly rows: number;
  /** All three statistics are reported for every column; numeric columns are judged by PSI, categorical ones by JS and L-inf. */
  readonly psi: number;
  readonly js: number;
  readonly linf: number;
  /** Chi-square test of homogeneity between the baseline's histogram and the scan's. */
  readonly pValue: number;
  /** null when there were too few rows for a verdict. */
  readonly severity: Severity | 'ok' | null;
  /** Which statistic decided the severity. */
  readonly decidedBy: 'psi' | 'js' | 'linf' | null;
  /** A statistic passed its warn limit, but no further than chance allows at this many rows. */
  readonly withinChance: boolean;
}

export function fitDriftBaseline(columns: readonly Column[], options: DriftBaselineOptions = {}): DriftBaseline {
  const bins = options.bins ?? 10;
  const maxCategories = options.maxCategories ?? 50;
  const rows = columns[0]?.values.length ?? 0;
  const fitted = columns.map((column): DriftColumnBaseline => {
    const n = column.values.length;
    if (column.type === 'int' || column.type === 'float' || column.type === 'timestamp') {
      const present: number[] = [];
      for (let r = 0; r < n; r++) {
        const v = cellNumber(column, r);
        if (!Number.isNaN(v)) present.push(v);
      }
      // A column holding no more distinct values than there are bins (one value, a few codes)
      // would get degenerate quantile bins, one of them catching any new value; it is compared
      // value by value instead, as categories, so a value the baseline never held shows.
      if (present.length > 0 && new Set(present).size <= bins) return fitCategorical(column, maxCategories);
      const edges = quantileEdges(Float64Array.from(present).sort(), bins);
      const baseline: NumericDriftBaseline = { kind: 'numeric', column: column.name, edges, counts: [] };
      const counts = new Float64Array(edges.length + 2);
      countNumeric(baseline, column, counts);
      return { ...baseline, counts: Array.from(counts) };
    }
    return fitCategorical(column, maxCategories);
  });
  return { version: 1, rows, columns: fitted };
}

/**
 * Inner bin edges on the quantiles of ascending `sorted` values. A value holding a bin's share of
 * the rows or more (a point mass: the zero of a cost that is mostly zero) gets a bin of its own,
 * and the other values are binned on their own quantiles. Plain deciles would collapse into the
 * mass: a column 99% zeros had one bin, and no change of it could show. Without point masses the
 * edges are the plain quantiles.
 */
function quantileEdges(sorted: Float64Array, bins: number): number[] {
  const n = sorted.length;
  if (n === 0) return [];
  const edges = new Set<number>();
  const rest: number[] = [];
  let masses = 0;
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && sorted[end] === sorted[start]) end++;
    if (end - start >= n / bins) {
      masses++;
      edges.add(sorted[start]!);
      if (end < n) edges.add(sorted[end]!);
    } else {
      for (let i = start; i < end; i++) rest.push(sorted[i]!);
    }
    start = end;
  }
  const restBins = Math.max(1, bins - masses);
  for (let i = 1; i < restBins && rest.length > 0; i++) edges.add(rest[Math.floor((i * rest.length) / restBins)]!);
  // Bin 0 is everything below the first edge, so an edge at the minimum would hold nothing.
  return [...edges].filter((e) => e > sorted[0]!).sort((a, b) => a - b);
}

/** The most frequent values (as cell keys) and their counts, one slot for the rest, one for nulls. */
function fitCategorical(column: Column, maxCategories: number): CategoricalDriftBaseline {
  const tally = new Map<string, number>();
  for (let r = 0; r < column.values.length; r++) {
    const key = cellKey(column, r);
    if (key !== null) tally.set(key, (tally.get(key) ?? 0) + 1);
  }
  const categories = [...tally.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, maxCategories)
    .map((e) => e[0]);
  const baseline: CategoricalDriftBaseline = { kind: 'categorical', column: column.name, categories, counts: [] };
  const counts = new Float64Array(categories.length + 2);
  countCategorical(baseline, column, counts);
  return { ...baseline, counts: Array.from(counts) };
}

const edgeLookups = new WeakMap<NumericDriftBaseline, EdgeLookup>();

function countNumeric(baseline: NumericDriftBaseline, column: Column, counts: Float64Array): void {
  const nullSlot = baseline.edges.length + 1;
  const rows = column.values.length;
  if (column.type === 'string') {
    counts[nullSlot] = counts[nullSlot]! + rows;
    return;
  }
  let lookup = edgeLookups.get(baseline);
  if (lookup === undefined) {
    lookup = new EdgeLookup(baseline.edges);
    edgeLookups.set(baseline, lookup);
  }
  const values = column.values;
  const valid = column.valid;
  for (let r = 0; r < rows; r++) {
    const v = values[r]!;
    // As cellNumber: missing and non-finite values count as nulls.
    if ((valid !== null && valid[r] !== 1) || !Number.isFinite(v)) {
      counts[nullSlot]!++;
      continue;
    }
    // Bin = number of edges <= v.
    counts[lookup.countAtOrBelow(v)]!++;
  }
}

const categoryIndexes = new WeakMap<CategoricalDriftBaseline, Map<string, number>>();

function countCategorical(baseline: CategoricalDriftBaseline, column: Column, counts: Float64Array): void {
  let index = categoryIndexes.get(baseline);
  if (index === undefined) {
    index = new Map(baseline.categories.map((c, i) => [c, i]));
    categoryIndexes.set(baseline, index);
  }
  const other = baseline.categories.length;
  if (column.type === 'string') {
    const dictionary = dictionaryOf(column);
    const slotOf = recode(dictionary, index, other);
    const codes = dictionary.codes;
    const valid = column.valid;
    for (let r = 0; r < codes.length; r++) {
      if (valid !== null && valid[r] !== 1) counts[other + 1]!++;
      else counts[slotOf[codes[r]!]!]!++;
    }
    return;
  }
  if (column.type === 'bool') {
    for (let r = 0; r < column.values.length; r++) {
      const key = cellKey(column, r);
      if (key === null) counts[other + 1]!++;
      else counts[index.get(key) ?? other]!++;
    }
    return;
  }
  // Numbers are looked up as numbers (the keys are their String() forms), so no row builds a string.
  let byNumber = numberIndexes.get(baseline);
  if (byNumber === undefined) {
    byNumber = new Map(baseline.categories.map((c, i) => [Number(c), i] as const).filter(([v, i]) => String(v) === baseline.categories[i]));
    numberIndexes.set(baseline, byNumber);
  }
  const values = column.values;
  const valid = column.valid;
  for (let r = 0; r < values.length; r++) {
    const v = values[r]!;
    if ((valid !== null && valid[r] !== 1) || Number.isNaN(v)) counts[other + 1]!++;
    else counts[byNumber.get(v) ?? other]!++;
  }
}

const numberIndexes = new WeakMap<CategoricalDriftBaseline, Map<number, number>>();

/** The sums of two count vectors of one length. */
function totals(p: ArrayLike<number>, q: ArrayLike<number>): [number, number] {
  let pTotal = 0;
  let qTotal = 0;
  for (let i = 0; i < p.length; i++) {
    pTotal += p[i]!;
    qTotal += q[i]!;
  }
  return [pTotal, qTotal];
}

/**
 * Population stability index: sum (a_i - e_i) ln(a_i / e_i) over slots, with shares smoothed by
 * `smoothing` pseudo-counts per slot so that an empty slot gives a large but finite value.
 */
export function populationStabilityIndex(expected: ArrayLike<number>, actual: ArrayLike<number>, smoothing = 0.5): number {
  const slots = expected.length;
  const [eTotal, aTotal] = totals(expected, actual);
  if (eTotal === 0 || aTotal === 0) return 0;
  let psi = 0;
  for (let i = 0; i < slots; i++) {
    if (expected[i] === 0 && actual[i] === 0) continue;
    const e = (expected[i]! + smoothing) / (eTotal + smoothing * slots);
    const a = (actual[i]! + smoothing) / (aTotal + smoothing * slots);
    psi += (a - e) * Math.log(a / e);
  }
  return psi;
}

/** Jensen-Shannon distance (square root of the divergence, base 2): 0 = same, 1 = disjoint. */
export function jensenShannonDistance(p: ArrayLike<number>, q: ArrayLike<number>): number {
  const [pTotal, qTotal] = totals(p, q);
  if (pTotal === 0 || qTotal === 0) return 0;
  let divergence = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i]! / pTotal;
    const b = q[i]! / qTotal;
    const m = (a + b) / 2;
    if (a > 0) divergence += 0.5 * a * Math.log2(a / m);
    if (b > 0) divergence += 0.5 * b * Math.log2(b / m);
  }
  return Math.sqrt(Math.max(0, Math.min(1, divergence)));
}

/** The largest absolute difference between the two distributions' shares. */
export function maxShareChange(p: ArrayLike<number>, q: ArrayLike<number>): number {
  const [pTotal, qTotal] = totals(p, q);
  if (pTotal === 0 || qTotal === 0) return 0;
  let max = 0;
  for (let i = 0; i < p.length; i++) max = Math.max(max, Math.abs(p[i]! / pTotal - q[i]! / qTotal));
  return max;
}

/** Scan-side histograms, one per baseline column; add batches, merge accumulators, then judge. */
export class DriftAccumulator {
  readonly counts: Float64Array[];

  constructor(readonly baseline: DriftBaseline) {
    this.counts = baseline.columns.map((c) => new Float64Array(c.counts.length));
  }

  /** Columns the batch lacks are skipped (a schema check reports them). */
  add(batch: Batch): void {
    this.baseline.columns.forEach((fitted, i) => {
      const column = batch.byName.get(fitted.column);
      if (column === undefined) return;
      if (fitted.kind === 'numeric') countNumeric(fitted, column, this.counts[i]!);
      else countCategorical(fitted, column, this.counts[i]!);
    });
  }

  merge(other: DriftAccumulator): void {
    if (other.counts.length !== this.counts.length || other.counts.some((c, i) => c.length !== this.counts[i]!.length)) {
      throw new InputError('cannot merge drift histograms made against different baselines');
    }
    other.counts.forEach((c, i) => {
      const mine = this.counts[i]!;
      for (let j = 0; j < c.length; j++) mine[j] = mine[j]! + c[j]!;
    });
  }

  /** JSON-safe histogram counts (for sending to the worker that merges). */
  toJson(): number[][] {
    return this.counts.map((c) => Array.from(c));
  }

  static fromJson(baseline: DriftBaseline, json: unknown): DriftAccumulator {
    const accumulator = new DriftAccumulator(baseline);
    if (!Array.isArray(json) || json.length !== accumulator.counts.length) throw new InputError('drift counts do not match the baseline');
    json.forEach((row: unknown, i) => {
      if (!Array.isArray(row) || row.length !== accumulator.counts[i]!.length || !row.every((v) => typeof v === 'number' && v >= 0)) {
        throw new InputError(`drift counts for column '${baseline.columns[i]!.column}' do not match the baseline`);
      }
      accumulator.counts[i]!.set(row as number[]);
    });
    return accumulator;
  }

  result(thresholds: DriftThresholds = {}): ColumnDrift[] {
    const t = {
      psi: { ...DEFAULT_DRIFT_THRESHOLDS.psi, ...thresholds.psi },
      js: { ...DEFAULT_DRIFT_THRESHOLDS.js, ...thresholds.js },
      linf: { ...DEFAULT_DRIFT_THRESHOLDS.linf, ...thresholds.linf },
      minRows: thresholds.minRows ?? DEFAULT_DRIFT_THRESHOLDS.minRows,
      alpha: thresholds.alpha ?? DEFAULT_DRIFT_THRESHOLDS.alpha,
    };
    const scanned = this.counts.map((counts) => counts.reduce((a, b) => a + b, 0));
    // A verdict needs enough scanned rows and a baseline that held the column.
    const judgeable = this.baseline.columns.map((fitted, i) => scanned[i]! >= t.minRows && fitted.counts.some((c) => c > 0));
    const judged = judgeable.filter(Boolean).length;
    return this.baseline.columns.map((fitted, i) => {
      const rows = scanned[i]!;
      const { expected, actual } = fitted.kind === 'categorical' ? pooled(fitted, this.counts[i]!, rows) : { expected: fitted.counts, actual: this.counts[i]! };
      const psi = populationStabilityIndex(expected, actual);
      const js = jensenShannonDistance(expected, actual);
      const linf = maxShareChange(expected, actual);
      const { pValue } = chiSquareHomogeneity(expected, actual);
      let severity: ColumnDrift['severity'] = null;
      let decidedBy: ColumnDrift['decidedBy'] = null;
      let withinChance = false;
      if (judgeable[i]) {
        let level: number;
        if (fitted.kind === 'numeric') {
          decidedBy = 'psi';
          level = psi >= t.psi.fail ? 2 : psi >= t.psi.warn ? 1 : 0;
        } else {
          const jsLevel = js >= t.js.fail ? 2 : js >= t.js.warn ? 1 : 0;
          const linfLevel = linf >= t.linf.fail ? 2 : linf >= t.linf.warn ? 1 : 0;
          level = Math.max(jsLevel, linfLevel);
          decidedBy = jsLevel >= linfLevel ? 'js' : 'linf';
        }
        withinChance = level > 0 && pValue >= t.alpha / judged;
        if (withinChance) level = 0;
        severity = level === 2 ? 'fail' : level === 1 ? 'warn' : 'ok';
      }
      return { column: fitted.column, kind: fitted.kind, rows, psi, js, linf, pValue, severity, decidedBy, withinChance };
    });
  }
}

/** A category expected to hold fewer of the scanned rows than this is judged with the other values. */
const MIN_EXPECTED_ROWS = 5;

/**
 * A categorical column's two histograms as judged: a category the baseline holds too rarely to
 * expect MIN_EXPECTED_ROWS of it among this scan's rows joins the slot of every other value, in
 * both. At this scan's size such a category's share is noise: counted apart, a column of free
 * text (titles, names), where every value is rare, would drift in every scan. A rare value that
 * floods in still moves the pooled slot.
 */
function pooled(fitted: CategoricalDriftBaseline, counts: Float64Array, rows: number): { expected: number[]; actual: number[] } {
  const other = fitted.categories.length;
  const baselineRows = fitted.counts.reduce((a, b) => a + b, 0);
  const expected: number[] = [];
  const actual: number[] = [];
  let expectedOther = fitted.counts[other]!;
  let actualOther = counts[other]!;
  for (let k = 0; k < other; k++) {
    if ((fitted.counts[k]! / baselineRows) * rows >= MIN_EXPECTED_ROWS) {
      expected.push(fitted.counts[k]!);
      actual.push(counts[k]!);
    } else {
      expectedOther += fitted.counts[k]!;
      actualOther += counts[k]!;
    }
  }
  expected.push(expectedOther, fitted.counts[other + 1]!);
  actual.push(actualOther, counts[other + 1]!);
  return { expected, actual };
}

/** Validates a drift baseline read from a model file. */
export function driftBaselineFromJson(json: unknown): DriftBaseline {
  if (typeof json !== 'object' || json === null) throw new InputError('driftBaseline must be an object');
  const o = json as Record<string, unknown>;
  if (o.version !== 1) throw new InputError(`driftBaseline.version must be 1, got ${String(o.version)}`);
  if (typeof o.rows !== 'number' || !Array.isArray(o.columns)) throw new InputError('driftBaseline needs rows and columns');
  const isCounts = (v: unknown, length: number) => Array.isArray(v) && v.length === length && v.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0);
  for (const c of o.columns as Record<string, unknown>[]) {
    const name = typeof c?.column === 'string' ? c.column : '?';
    if (c?.kind === 'numeric') {
      const edges = c.edges;
      if (!Array.isArray(edges) || !edges.every((e, i) => typeof e === 'number' && Number.isFinite(e) && (i === 0 || e > (edges[i - 1] as number)))) {
        throw new InputError(`driftBaseline column '${name}': edges must be ascending numbers`);
      }
      if (!isCounts(c.counts, edges.length + 2)) throw new InputError(`driftBaseline column '${name}': counts do not match the edges`);
    } else if (c?.kind === 'categorical') {
      if (!Array.isArray(c.categories) || !c.categories.every((x) => typeof x === 'string') || !isCounts(c.counts, c.categories.length + 2)) {
        throw new InputError(`driftBaseline column '${name}': categories and counts do not match`);
      }
    } else {
      throw new InputError(`driftBaseline column '${name}': kind must be 'numeric' or 'categorical'`);
    }
  }
  return json as DriftBaseline;
}
