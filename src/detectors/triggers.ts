// Backdoor triggers: a feature value (a category, a numeric value or a narrow numeric bin) that
// is rare or absent in the baseline, frequent in the scanned data, and almost always paired with
// one label. That is the footprint of a poisoning attack that stamps a trigger on some rows and
// gives them the target label.
//
// The baseline side is fitted once: per feature column, counts per (value or bin, label), with
// narrow bins on baseline quantiles for continuous columns. The scan side accumulates the same
// counts in one pass (counts add, so batches and workers merge), and a decision at any point
// compares the two: excess rows over what the baseline predicts, lift over the baseline share,
// and the label purity of the excess. Rows carrying a decided trigger and its label are found by
// `triggerRows`, per batch.
import { InputError } from '../core/errors.js';
import { dictionaryOf } from '../core/string-dictionary.js';
import type { Batch, Column } from '../core/types.js';
import { EdgeLookup } from './edges.js';
import { cellKey, cellNumber, classCodes } from './features.js';

export interface TriggerBaselineOptions {
  /** Most narrow bins per continuous column (default 500; fewer for small baselines: ~10 rows a bin). */
  readonly bins?: number;
  /** Numeric columns with at most this many distinct baseline values are keyed by value (default 64). */
  readonly discreteValues?: number;
  /** Most distinct values kept per keyed column, in the baseline and in a scan (default 20,000). */
  readonly maxKeys?: number;
}

export interface TriggerRules {
  /** Excess rows over the baseline expectation a trigger needs (default 10). */
  readonly minRows?: number;
  /** ...and as a share of the scanned labelled rows (default 0.002). */
  readonly minShare?: number;
  /** Scanned share over baseline share (default 4). */
  readonly minLift?: number;
  /** Share of the excess rows that carry the dominant label (default 0.9). */
  readonly minPurity?: number;
  /**
   * Chance of any false trigger on unchanged data, split over every value tested (default 0.01).
   * A value's scanned count against its baseline count must be that unlikely under a common rate.
   */
  readonly alpha?: number;
  /**
   * A column with more candidates than this is drifting, not carrying a trigger: its candidates
   * are reported as suppressed instead (default 3). A backdoor stamps one value; drift moves many.
   */
  readonly maxPerColumn?: number;
}

export const DEFAULT_TRIGGER_RULES: Required<TriggerRules> = { minRows: 10, minShare: 0.002, minLift: 4, minPurity: 0.9, alpha: 0.01, maxPerColumn: 3 };

export interface TriggerDecision {
  readonly triggers: Trigger[];
  /** Columns whose candidates were dropped as drift, with how many there were. */
  readonly suppressed: { readonly column: string; readonly candidates: number }[];
}

/**
 * Upper bound (Chernoff) on the log probability that, of `total` rows holding a value, `scanned`
 * or more fall on the scan side when each does so with probability p (the scan's share of all rows).
 */
export function logTailBound(scanned: number, total: number, p: number): number {
  const q = scanned / total;
  if (q <= p) return 0;
  const kl = (q > 0 ? q * Math.log(q / p) : 0) + (q < 1 ? (1 - q) * Math.log((1 - q) / (1 - p)) : 0);
  return -total * kl;
}

export interface KeyedColumnBaseline {
  readonly kind: 'keys';
  readonly column: string;
  readonly keys: readonly string[];
  /** keys.length x classes, row-major: baseline rows per (value, label). */
  readonly counts: readonly number[];
}

export interface BinnedColumnBaseline {
  readonly kind: 'bins';
  readonly column: string;
  readonly min: number;
  readonly max: number;
  /**
   * Inner bin edges, ascending, on baseline quantiles of the values that are not spikes.
   * Slot 0 is below min, slots 1 .. edges.length + 1 are inside, edges.length + 2 is above max.
   */
  readonly edges: readonly number[];
  /**
   * Values holding at least a bin's worth of baseline rows (a column's 0, a round number), ascending.
   * Each gets its own slot after the bins, so a trigger value next to a spike is not hidden by it.
   */
  readonly spikes: readonly number[];
  /** (edges.length + 3 + spikes.length) x classes, row-major. */
  readonly counts: readonly number[];
  /** The most frequent baseline value in each bin and its row count (NaN-free: 0 and 0 when empty). */
  readonly modes: readonly number[];
  readonly modeCounts: readonly number[];
}

export type TriggerColumnBaseline = KeyedColumnBaseline | BinnedColumnBaseline;

/** JSON-safe. */
export interface TriggerBaseline {
  readonly version: 1;
  readonly rows: number;
  readonly classes: readonly string[];
  readonly classCounts: readonly number[];
  readonly maxKeys: number;
  readonly columns: readonly TriggerColumnBaseline[];
}

export interface Trigger {
  readonly column: string;
  /** 'key': a category or discrete value; 'value': one exact number; 'range': a narrow bin [low, high). */
  readonly kind: 'key' | 'value' | 'range';
  /** The key, the number as text, or the range as `[low,high)`. */
  readonly display: string;
  readonly key?: string;
  readonly value?: number;
  /** For 'value' and 'range': the baseline bin; for 'range', its bounds when finite. */
  readonly bin?: number;
  readonly low?: number;
  readonly high?: number;
  /** The label the trigger rows carry. */
  readonly label: string;
  readonly labelCode: number;
  readonly rows: number;
  readonly excessRows: number;
  readonly share: number;
  readonly baselineShare: number;
  readonly lift: number;
  readonly purity: number;
  /** Baseline rows per label of the value, key or bin (for a value in a bin, estimated: see decide). */
  readonly baselineRows: readonly number[];
}

/** What a trigger's figures are computed from: scanned and baseline rows per label, and the totals. */
export interface TriggerCounts {
  /** Scanned labelled rows per label carrying the value, key or bin. */
  readonly rows: ArrayLike<number>;
  readonly baselineRows: ArrayLike<number>;
  /** Labelled rows scanned, and in the baseline. */
  readonly scanned: number;
  readonly baseline: number;
}

export type TriggerFigures = Pick<Trigger, 'label' | 'labelCode' | 'rows' | 'excessRows' | 'share' | 'baselineShare' | 'lift' | 'purity'>;

/**
 * A trigger's figures: its rows and their excess over what the baseline predicts, lift, and the
 * label with the largest excess (or the one given) and its share of the excess (purity).
 */
export function triggerFigures(counts: TriggerCounts, classes: readonly string[], labelCode?: number): TriggerFigures {
  const K = classes.length;
  const N = counts.scanned;
  const N0 = Math.max(1, counts.baseline);
  let n = 0;
  let base = 0;
  for (let k = 0; k < K; k++) {
    n += counts.rows[k]!;
    base += counts.baselineRows[k]!;
  }
  const baselineShare = base / N0;
  const excess = n - N * baselineShare;
  let best = 0;
  let bestExcess = -Infinity;
  for (let k = 0; k < K; k++) {
    const e = counts.rows[k]! - (N * counts.baselineRows[k]!) / N0;
    if (labelCode === undefined ? e > bestExcess : k === labelCode) {
      bestExcess = e;
      best = k;
    }
  }
  return {
    label: classes[best]!,
    labelCode: best,
    rows: n,
    excessRows: excess,
    share: N > 0 ? n / N : 0,
    baselineShare,
    lift: N > 0 ? n / N / Math.max(baselineShare, 1 / N0) : 0,
    purity: excess > 0 ? Math.min(1, bestExcess / excess) : 0,
  };
}

/** Bin count for a continuous column: about 10 baseline rows per bin, between 10 and `limit`. */
function binCount(rows: number, limit: number): number {
  return Math.max(10, Math.min(limit, Math.floor(rows / 10)));
}

/** Number of slots (bins and spikes) of a binned column. */
export function slotCount(baseline: BinnedColumnBaseline): number {
  return baseline.edges.length + 3 + baseline.spikes.length;
}

/**
 * Which slot of a binned column a number falls in, with the baseline's fields read once into
 * numbers and typed arrays: the lookup runs for every value of every binned column of a scan.
 */
class SlotLookup {
  private readonly edges: EdgeLookup;
  private readonly spikes: EdgeLookup | null;
  private readonly spikeValues: Float64Array;
  private readonly min: number;
  private readonly max: number;
  /** The slot above max, and the first spike's. */
  private readonly above: number;
  private readonly firstSpike: number;

  constructor(baseline: BinnedColumnBaseline) {
    this.edges = new EdgeLookup(baseline.edges);
    this.spikes = baseline.spikes.length > 0 ? new EdgeLookup(baseline.spikes) : null;
    this.spikeValues = Float64Array.from(baseline.spikes);
    this.min = baseline.min;
    this.max = baseline.max;
    this.above = baseline.edges.length + 2;
    this.firstSpike = baseline.edges.length + 3;
  }

  /** The slot (spike or bin) holding v (v must not be NaN). */
  slotOf(v: number): number {
    if (this.spikes !== null) {
      // Spikes are ascending: v is one when the last spike at or below it equals it.
      const below = this.spikes.countAtOrBelow(v);
      if (below > 0 && this.spikeValues[below - 1] === v) return this.firstSpike + below - 1;
    }
    if (v < this.min) return 0;
    if (v > this.max) return this.above;
    return 1 + this.edges.countAtOrBelow(v);
  }

  /** slots[r]: the slot of row r's value, -1 for a row not counted (no label, or a value missing or not finite, as cellNumber). */
  slotsOf(values: Float64Array, valid: Uint8Array | null, codes: Int32Array, slots: Int32Array): void {
    for (let r = 0; r < codes.length; r++) {
      const v = values[r]!;
      slots[r] = codes[r]! < 0 || (valid !== null && valid[r] !== 1) || !Number.isFinite(v) ? -1 : this.slotOf(v);
    }
  }
}

const slotLookups = new WeakMap<BinnedColumnBaseline, SlotLookup>();

function slotLookup(baseline: BinnedColumnBaseline): SlotLookup {
  let lookup = slotLookups.get(baseline);
  if (lookup === undefined) {
    lookup = new SlotLookup(baseline);
    slotLookups.set(baseline, lookup);
  }
  return lookup;
}

/** Index of the slot (spike or bin) holding v (v must not be NaN). */
export function binOf(baseline: BinnedColumnBaseline, v: number): number {
  return slotLookup(baseline).slotOf(v);
}

/** Fits the baseline side on trusted rows; `labels` holds class numbers (-1 for none). */
export function fitTriggerBaseline(
  columns: readonly Column[],
  labels: Int32Array,
  classes: readonly string[],
  options: TriggerBaselineOptions = {},
): TriggerBaseline {
  const K = classes.length;
  const maxKeys = options.maxKeys ?? 20_000;
  const discrete = options.discreteValues ?? 64;
  const binLimit = options.bins ?? 500;
  const classCounts = new Array<number>(K).fill(0);
  let rows = 0;
  for (const c of labels) {
    if (c >= 0) {
      classCounts[c]!++;
      rows++;
    }
  }
  const fitted: TriggerColumnBaseline[] = [];
  for (const column of columns) {
    if (column.values.length !== labels.length) throw new InputError(`column '${column.name}' has ${column.values.length} rows, the labels ${labels.length}`);
    const numeric = column.type === 'int' || column.type === 'float' || column.type === 'timestamp';
    if (numeric) {
      const values: number[] = [];
      const valueLabels: number[] = [];
      for (let r = 0; r < labels.length; r++) {
        const v = cellNumber(column, r);
        if (labels[r]! >= 0 && !Number.isNaN(v)) {
          values.push(v);
          valueLabels.push(labels[r]!);
        }
      }
      const distinct = new Set(values);
      if (values.length > 0 && distinct.size > discrete) {
        fitted.push(fitBins(column.name, values, valueLabels, K, binCount(values.length, binLimit)));
        continue;
      }
    }
    fitted.push(fitKeys(column, labels, K, maxKeys));
  }
  return { version: 1, rows, classes: [...classes], classCounts, maxKeys, columns: fitted };
}

function fitKeys(column: Column, labels: Int32Array, K: number, maxKeys: number): KeyedColumnBaseline {
  const counts = new Map<string, number[]>();
  for (let r = 0; r < labels.length; r++) {
    const y = labels[r]!;
    const key = cellKey(column, r);
    if (y < 0 || key === null) continue;
    let row = counts.get(key);
    if (row === undefined) {
      row = new Array<number>(K).fill(0);
      counts.set(key, row);
    }
    row[y]!++;
  }
  // Keep the most frequent values when there are too many (the rest count as unseen).
  const total = (row: number[]) => row.reduce((a, b) => a + b, 0);
  const ranked = [...counts.entries()].sort((a, b) => total(b[1]) - total(a[1]) || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, maxKeys);
  return { kind: 'keys', column: column.name, keys: ranked.map((e) => e[0]), counts: ranked.flatMap((e) => e[1]) };
}

function fitBins(name: string, values: number[], valueLabels: number[], K: number, bins: number): BinnedColumnBaseline {
  const order = values.map((_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const sorted = order.map((i) => values[i]!);
  const n = sorted.length;
  const min = sorted[0]!;
  const max = sorted[n - 1]!;
  // Spikes: runs of one value at least a bin's worth of rows long.
  const spikeRows = Math.max(5, Math.ceil(n / bins));
  const spikes: number[] = [];
  const rest: number[] = [];
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && sorted[j + 1] === sorted[i]) j++;
    if (j - i + 1 >= spikeRows) spikes.push(sorted[i]!);
    else for (let k = i; k <= j; k++) rest.push(sorted[k]!);
    i = j + 1;
  }
  const edges: number[] = [];
  for (let i = 1; i < bins && rest.length > 0; i++) {
    const q = rest[Math.floor((i * rest.length) / bins)]!;
    if (q > min && (edges.length === 0 || q > edges[edges.length - 1]!)) edges.push(q);
  }
  const shape: BinnedColumnBaseline = { kind: 'bins', column: name, min, max, edges, spikes, counts: [], modes: [], modeCounts: [] };
  const slots = slotCount(shape);
  const counts = new Array<number>(slots * K).fill(0);
  const modes = new Array<number>(slots).fill(0);
  const modeCounts = new Array<number>(slots).fill(0);
  // Values are sorted, so equal values form runs: the longest run in a slot is its mode.
  let runStart = 0;
  for (let i = 0; i < n; i++) {
    const slot = binOf(shape, sorted[i]!);
    counts[slot * K + valueLabels[order[i]!]!]!++;
    if (i === n - 1 || sorted[i + 1] !== sorted[i]) {
      const run = i + 1 - runStart;
      if (run > modeCounts[slot]!) {
        modeCounts[slot] = run;
        modes[slot] = sorted[i]!;
      }
      runStart = i + 1;
    }
  }
  return { ...shape, counts, modes, modeCounts };
}

/** Per-column scan state. */
interface KeyedState {
  readonly kind: 'keys';
  readonly counts: Map<string, Float64Array>;
  overflow: number;
}

interface BinnedState {
  readonly kind: 'bins';
  readonly counts: Float64Array;
  /** Boyer-Moore majority vote per bin: the candidate value and its vote margin. */
  readonly candidate: Float64Array;
  readonly votes: Float64Array;
  /** Per bin, how many times another value has taken it (the vote was at 0). */
  readonly takeovers: Float64Array;
  /**
   * Per (bin, label), the candidate's rows since it last took the bin: so a value is judged on
   * rows that surely hold it, with their labels. A count is current when `countedAt` holds the
   * bin's takeover number; an older one stands for 0.
   */
  readonly candidateCounts: Float64Array;
  readonly countedAt: Float64Array;
}

/** The candidate's rows per label since it last took bin b (zeros in state from before they were kept). */
function candidateRows(state: BinnedState, b: number, K: number): Float64Array {
  const rows = new Float64Array(K);
  if (state.candidateCounts === undefined) return rows;
  for (let k = 0; k < K; k++) if (state.countedAt[b * K + k] === state.takeovers[b]) rows[k] = state.candidateCounts[b * K + k]!;
  return rows;
}

/** Everything an accumulator learnt, as plain data (Maps and typed arrays) that v8 can serialise. */
export interface TriggerState {
  readonly rows: number;
  readonly classCounts: Float64Array;
  readonly states: readonly (KeyedState | BinnedState)[];
}

/**
 * Counts per (slot, label), the majority vote per slot, and the candidate's own rows per label.
 * The vote without a branch (which would be mispredicted about every other row): an empty slot
 * takes v with one vote, else v adds a vote to its candidate or takes one away. A takeover
 * starts the candidate's counts afresh by moving the slot's takeover number on, rather than by
 * clearing them. `pick` is scratch for choosing the candidate.
 */
function countAndVote(state: BinnedState, K: number, values: Float64Array, codes: Int32Array, slots: Int32Array, pick: Float64Array): void {
  const { counts, candidate, votes, takeovers, candidateCounts, countedAt } = state;
  for (let r = 0; r < codes.length; r++) {
    const bin = slots[r]!;
    if (bin < 0) continue;
    const v = values[r]!;
    const at = bin * K + codes[r]!;
    counts[at]!++;
    // Booleans go into bitwise operators as 0 and 1 without a branch; `cond ? 1 : 0` compiles
    // to a branch here and made the loop three times slower.
    const n = votes[bin]!;
    const empty = (n === 0) as unknown as number;
    const held = candidate[bin]!;
    const same = (held === v) as unknown as number;
    const mine = empty | same;
    votes[bin] = n - 1 + (mine << 1);
    pick[0] = held;
    pick[1] = v;
    candidate[bin] = pick[empty & 1]!;
    // A value that takes back the bin it held keeps its rows.
    const takeover = takeovers[bin]! + (empty & (same ^ 1));
    takeovers[bin] = takeover;
    const stamp = countedAt[at]!;
    candidateCounts[at] = candidateCounts[at]! * (((stamp === takeover) as unknown as number) | 0) + mine;
    countedAt[at] = stamp + (takeover - stamp) * mine;
  }
}

/**
 * Scan-side counts per (column, value or bin, label). Add batches in any order, merge
 * accumulators from other workers, decide at any point. Rows carrying a decided trigger are
 * found afterwards, batch by batch, with `triggerRows`.
 */
export class TriggerAccumulator {
  states: (KeyedState | BinnedState)[];
  /** Labelled rows seen, per class. */
  classCounts: Float64Array;
  rows = 0;
  /**
   * Per keyed column of numbers: the counts row of each number seen, so that a number is turned
   * into its text key once, not once a row. The rows are those in `states`.
   */
  private readonly byNumber: (Map<number, Float64Array> | undefined)[];
  /** Slot of each row of the batch being added (scratch). */
  private slots = new Int32Array(0);
  /** The two values a vote chooses between (scratch). */
  private readonly pick = new Float64Array(2);

  constructor(
    readonly baseline: TriggerBaseline,
    readonly labelColumn: string,
  ) {
    const K = baseline.classes.length;
    this.classCounts = new Float64Array(K);
    this.states = baseline.columns.map((c) => {
      if (c.kind === 'keys') return { kind: 'keys', counts: new Map(), overflow: 0 };
      const slots = slotCount(c);
      return {
        kind: 'bins',
        counts: new Float64Array(slots * K),
        candidate: new Float64Array(slots),
        votes: new Float64Array(slots),
        takeovers: new Float64Array(slots),
        candidateCounts: new Float64Array(slots * K),
        countedAt: new Float64Array(slots * K),
      };
    });
    this.byNumber = baseline.columns.map(() => undefined);
  }

  /** The accumulator's data, for a worker to hand to the one that merges. */
  toState(): TriggerState {
    return { rows: this.rows, classCounts: this.classCounts, states: this.states };
  }

  static fromState(baseline: TriggerBaseline, labelColumn: string, state: TriggerState): TriggerAccumulator {
    const accumulator = new TriggerAccumulator(baseline, labelColumn);
    if (state.states.length !== accumulator.states.length || state.classCounts.length !== accumulator.classCounts.length) {
      throw new InputError('trigger counts do not match the baseline');
    }
    accumulator.merge(Object.assign(Object.create(TriggerAccumulator.prototype) as TriggerAccumulator, { baseline, ...state }));
    return accumulator;
  }

  /** Label codes of a batch against the baseline classes (-1: missing or unknown). */
  labelCodes(batch: Batch): Int32Array {
    const column = batch.byName.get(this.labelColumn);
    if (column === undefined) return new Int32Array(batch.rowCount).fill(-1);
    return classCodes(column, this.baseline.classes);
  }

  /** Adds a batch; returns its label codes for reuse. Columns the batch lacks are skipped. */
  add(batch: Batch, codes = this.labelCodes(batch)): Int32Array {
    for (let r = 0; r < codes.length; r++) {
      if (codes[r]! >= 0) {
        this.classCounts[codes[r]!]!++;
        this.rows++;
      }
    }
    this.baseline.columns.forEach((fitted, i) => {
      const column = batch.byName.get(fitted.column);
      if (column === undefined) return;
      const state = this.states[i]!;
      if (state.kind === 'keys' && fitted.kind === 'keys') this.addKeys(state, column, codes, i);
      else if (state.kind === 'bins' && fitted.kind === 'bins') this.addBins(state, fitted, column, codes);
    });
    return codes;
  }

  /** The counts row of a key, made on first sight; undefined (and counted) past maxKeys. */
  private countsOf(state: KeyedState, key: string): Float64Array | undefined {
    let row = state.counts.get(key);
    if (row === undefined) {
      if (state.counts.size >= this.baseline.maxKeys) {
        state.overflow++;
        return undefined;
      }
      row = new Float64Array(this.baseline.classes.length);
      state.counts.set(key, row);
    }
    return row;
  }

  private addKeys(state: KeyedState, column: Column, codes: Int32Array, i: number): void {
    const valid = column.valid;
    if (column.type === 'int' || column.type === 'float' || column.type === 'timestamp') {
      const values = column.values as Float64Array;
      let byNumber = this.byNumber[i];
      if (byNumber === undefined) this.byNumber[i] = byNumber = new Map();
      for (let r = 0; r < codes.length; r++) {
        const y = codes[r]!;
        if (y < 0 || (valid !== null && valid[r] !== 1)) continue;
        const v = values[r]!;
        if (Number.isNaN(v)) continue;
        // Map keys compare as SameValueZero, so -0 shares 0's row, as String(-0) is '0'.
        let row = byNumber.get(v);
        if (row === undefined) {
          row = this.countsOf(state, String(v));
          if (row === undefined) continue;
          byNumber.set(v, row);
        }
        row[y]!++;
      }
      return;
    }
    if (column.type === 'string') {
      // Each distinct value's counts row is found once, at its first counted row (so values
      // are kept in the order rows first count them, as maxKeys needs); a value past maxKeys
      // counts as overflow on every row, as countsOf does.
      const dictionary = dictionaryOf(column);
      const rowsOf: (Float64Array | null | undefined)[] = new Array(dictionary.keys.length);
      const keyCodes = dictionary.codes;
      for (let r = 0; r < codes.length; r++) {
        const y = codes[r]!;
        if (y < 0 || (valid !== null && valid[r] !== 1)) continue;
        const k = keyCodes[r]!;
        let row = rowsOf[k];
        if (row === undefined) row = rowsOf[k] = this.countsOf(state, dictionary.keys[k]!) ?? null;
        else if (row === null) state.overflow++;
        if (row !== null) row[y]!++;
      }
      return;
    }
    for (let r = 0; r < codes.length; r++) {
      const y = codes[r]!;
      if (y < 0) continue;
      const key = cellKey(column, r);
      if (key === null) continue;
      const row = this.countsOf(state, key);
      if (row !== undefined) row[y]!++;
    }
  }

  private addBins(state: BinnedState, fitted: BinnedColumnBaseline, column: Column, codes: Int32Array): void {
    // Only numbers are binned (a column of text or booleans is keyed when fitted).
    if (column.type === 'string' || column.type === 'bool') return;
    const rows = codes.length;
    // Two passes, each a function of its own (so each is optimised on its own): the slots first
    // (-1 for rows not counted), then the counts and votes, whose branches are hard to predict
    // and are best kept away from the lookups.
    if (this.slots.length < rows) this.slots = new Int32Array(rows);
    slotLookup(fitted).slotsOf(column.values, column.valid, codes, this.slots);
    countAndVote(state, this.baseline.classes.length, column.values, codes, this.slots, this.pick);
  }



  /** Folds another accumulator over the same baseline into this one. */
  merge(other: TriggerAccumulator): void {
    if (other.baseline !== this.baseline && JSON.stringify(other.baseline.columns.map((c) => c.column)) !== JSON.stringify(this.baseline.columns.map((c) => c.column))) {
      throw new InputError('cannot merge trigger counts made against different baselines');
    }
    this.rows += other.rows;
    for (let k = 0; k < this.classCounts.length; k++) this.classCounts[k] = this.classCounts[k]! + other.classCounts[k]!;
    this.states.forEach((state, i) => {
      const theirs = other.states[i]!;
      if (state.kind === 'keys' && theirs.kind === 'keys') {
        state.overflow += theirs.overflow;
        for (const [key, row] of theirs.counts) {
          const mine = state.counts.get(key);
          if (mine !== undefined) for (let k = 0; k < row.length; k++) mine[k] = mine[k]! + row[k]!;
          else if (state.counts.size < this.baseline.maxKeys) state.counts.set(key, Float64Array.from(row));
          else state.overflow += row.reduce((a, b) => a + b, 0);
        }
      } else if (state.kind === 'bins' && theirs.kind === 'bins') {
        for (let j = 0; j < state.counts.length; j++) state.counts[j] = state.counts[j]! + theirs.counts[j]!;
        // Majority votes merge: same candidate adds, different candidates cancel. The
        // candidate's own rows go with it: both sides' when it is the same value.
        const K = this.classCounts.length;
        for (let b = 0; b < state.votes.length; b++) {
          const mineRows = candidateRows(state, b, K);
          const theirRows = candidateRows(theirs, b, K);
          let rows: Float64Array;
          if (state.candidate[b] === theirs.candidate[b] || state.votes[b] === 0 || theirs.votes[b] === 0) {
            if (state.candidate[b] === theirs.candidate[b]) rows = mineRows.map((c, k) => c + theirRows[k]!);
            else rows = state.votes[b] === 0 ? theirRows : mineRows;
            if (state.votes[b] === 0) state.candidate[b] = theirs.candidate[b]!;
            state.votes[b] = state.votes[b]! + theirs.votes[b]!;
          } else if (theirs.votes[b]! > state.votes[b]!) {
            rows = theirRows;
            state.candidate[b] = theirs.candidate[b]!;
            state.votes[b] = theirs.votes[b]! - state.votes[b]!;
          } else {
            rows = mineRows;
            state.votes[b] = state.votes[b]! - theirs.votes[b]!;
          }
          state.candidateCounts.set(rows, b * K);
          state.countedAt.fill(state.takeovers[b]!, b * K, (b + 1) * K);
        }
      }
    });
  }

  /**
   * Whether the three bins on each side of bin b (inside the baseline range or at its edge) hold at least
   * `lift` times their baseline share and a good part (a quarter) of b's own excess rows: then
   * b's excess belongs to a broader shift (drift), not a narrow trigger.
   */
  private neighboursElevated(fitted: BinnedColumnBaseline, state: BinnedState, b: number, lift: number, excess: number): boolean {
    const K = this.baseline.classes.length;
    const last = fitted.edges.length + 2;
    let scanned = 0;
    let base = 0;
    for (let n = b - 3; n <= b + 3; n++) {
      if (n < 0 || n > last || n === b) continue;
      for (let k = 0; k < K; k++) {
        scanned += state.counts[n * K + k]!;
        base += fitted.counts[n * K + k]!;
      }
    }
    const expected = (this.rows * base) / Math.max(1, this.baseline.rows);
    return scanned >= lift * Math.max(expected, 1) && scanned - expected >= 0.25 * excess;
  }

  /** The triggers the counts so far support, strongest first within each column. */
  decide(rules: TriggerRules = {}): Trigger[] {
    return this.decideWithDrift(rules).triggers;
  }

  /** As decide(), also naming the columns whose candidates were dropped as drift. */
  decideWithDrift(rules: TriggerRules = {}): TriggerDecision {
    const r = { ...DEFAULT_TRIGGER_RULES, ...rules };
    const K = this.baseline.classes.length;
    const N = this.rows;
    const N0 = Math.max(1, this.baseline.rows);
    if (N === 0) return { triggers: [], suppressed: [] };
    const priors = this.baseline.classCounts.map((c) => c / N0);
    const scanShare = N / (N + N0);
    // Every (column, value) looked at counts as a test, for the chance-of-any-false-trigger bound.
    let tests = 0;
    /** `slot` names a bin, for a range to give way to a value found in it. */
    const candidates: { trigger: Trigger; logP: number; order: number; slot: number }[] = [];
    this.baseline.columns.forEach((fitted, i) => {
      const state = this.states[i]!;
      const judge = (
        rows: ArrayLike<number>,
        baselineRows: ArrayLike<number>,
        describe: Omit<Trigger, keyof TriggerFigures | 'baselineRows'>,
        slot = -1,
      ) => {
        tests++;
        const figures = triggerFigures({ rows, baselineRows, scanned: N, baseline: this.baseline.rows }, this.baseline.classes);
        const { excessRows, lift, purity, labelCode } = figures;
        if (excessRows < r.minRows || excessRows / N < r.minShare || lift < r.minLift) return;
        if (purity < r.minPurity || rows[labelCode]! / figures.rows < priors[labelCode]!) return;
        let base = 0;
        for (let k = 0; k < K; k++) base += baselineRows[k]!;
        candidates.push({
          trigger: { ...describe, ...figures, baselineRows: Array.from(baselineRows) },
          logP: logTailBound(figures.rows, figures.rows + base, scanShare),
          order: i,
          slot,
        });
      };
      if (fitted.kind === 'keys' && state.kind === 'keys') {
        const index = keyIndex(fitted);
        for (const [key, row] of state.counts) {
          const at = index.get(key);
          judge(row, at === undefined ? new Float64Array(K) : fitted.counts.slice(at * K, (at + 1) * K), { column: fitted.column, kind: 'key', display: key, key });
        }
      } else if (fitted.kind === 'bins' && state.kind === 'bins') {
        const slots = slotCount(fitted);
        const firstSpike = fitted.edges.length + 3;
        for (let b = 0; b < slots; b++) {
          let n = 0;
          for (let k = 0; k < K; k++) n += state.counts[b * K + k]!;
          if (n === 0) continue;
          const binRows = state.counts.subarray(b * K, (b + 1) * K);
          const binBase = fitted.counts.slice(b * K, (b + 1) * K);
          if (b >= firstSpike) {
            // A spike's slot holds its one value.
            const value = fitted.spikes[b - firstSpike]!;
            judge(binRows, binBase, { column: fitted.column, kind: 'value', display: String(value), value, bin: b });
            continue;
          }
          const base = binBase.reduce((sum, c) => sum + c, 0);
          if (this.neighboursElevated(fitted, state, b, r.minLift / 2, n - (N * base) / N0)) continue;
          // The bin's vote candidate, on the rows that surely hold it, with their labels. The
          // baseline keeps the rows of its bin's most frequent value but not their labels: they
          // are taken to be labelled as the bin's rows are.
          const value = state.candidate[b]!;
          const baseRows = fitted.modes[b] === value ? fitted.modeCounts[b]! : 0;
          const valueBase = Array.from({ length: K }, (_, k) => (base > 0 ? (baseRows * fitted.counts[b * K + k]!) / base : 0));
          judge(candidateRows(state, b, K), valueBase, { column: fitted.column, kind: 'value', display: String(value), value, bin: b }, b);
          // And the bin as a whole, a narrow range, which gives way to its value when both are found.
          judge(binRows, binBase, { column: fitted.column, kind: 'range', display: rangeText(fitted, b), bin: b, ...binBounds(fitted, b) }, b);
        }
      }
    });
    const limit = Math.log(r.alpha / Math.max(1, tests));
    const found = candidates.filter((c) => c.logP <= limit);
    const valueBins = new Set(found.filter((c) => c.trigger.kind === 'value' && c.slot >= 0).map((c) => `${c.order}:${c.slot}`));
    const significant = found
      .filter((c) => !(c.trigger.kind === 'range' && valueBins.has(`${c.order}:${c.slot}`)))
      .sort((a, b) => a.order - b.order || b.trigger.excessRows - a.trigger.excessRows || (a.trigger.display < b.trigger.display ? -1 : a.trigger.display > b.trigger.display ? 1 : 0));
    const perColumn = new Map<string, number>();
    for (const c of significant) perColumn.set(c.trigger.column, (perColumn.get(c.trigger.column) ?? 0) + 1);
    const suppressed = [...perColumn.entries()].filter(([, n]) => n > r.maxPerColumn).map(([column, candidates]) => ({ column, candidates }));
    const drifting = new Set(suppressed.map((s) => s.column));
    return { triggers: significant.filter((c) => !drifting.has(c.trigger.column)).map((c) => c.trigger), suppressed };
  }
}

const keyIndexes = new WeakMap<KeyedColumnBaseline, Map<string, number>>();

function keyIndex(fitted: KeyedColumnBaseline): Map<string, number> {
  let index = keyIndexes.get(fitted);
  if (index === undefined) {
    index = new Map(fitted.keys.map((k, i) => [k, i]));
    keyIndexes.set(fitted, index);
  }
  return index;
}

function binBounds(fitted: BinnedColumnBaseline, bin: number): { low?: number; high?: number } {
  const inner = fitted.edges;
  if (bin === 0) return { high: fitted.min };
  if (bin === inner.length + 2) return { low: fitted.max };
  const low = bin === 1 ? fitted.min : inner[bin - 2]!;
  const high = bin === inner.length + 1 ? fitted.max : inner[bin - 1]!;
  return { low, high };
}

function rangeText(fitted: BinnedColumnBaseline, bin: number): string {
  if (bin === 0) return `<${fitted.min}`;
  if (bin === fitted.edges.length + 2) return `>${fitted.max}`;
  const { low, high } = binBounds(fitted, bin) as { low: number; high: number };
  // The top inner bin includes the baseline maximum.
  return bin === fitted.edges.length + 1 ? `[${low},${high}]` : `[${low},${high})`;
}

/** The reason code of a trigger: `trigger:<column>=<value>`. */
export function triggerReason(trigger: Trigger): string {
  return `trigger:${trigger.column}=${trigger.display}`;
}

export interface TriggerRows {
  /** Row indices within the batch, ascending; a row carrying two triggers appears twice. */
  readonly rows: Int32Array;
  /** Index into the trigger list, per entry of `rows`. */
  readonly trigger: Int32Array;
  /** Labelled rows carrying each trigger's value, key or bin, per label (triggers x classes, row-major). */
  readonly carrying: Float64Array;
}

/**
 * The rows of a batch that carry a decided trigger together with its label. `codes` are the
 * batch's label codes against the baseline classes (TriggerAccumulator.labelCodes).
 */
export function triggerRows(batch: Batch, triggers: readonly Trigger[], baseline: TriggerBaseline, codes: Int32Array): TriggerRows {
  const rows: number[] = [];
  const which: number[] = [];
  const K = baseline.classes.length;
  const carrying = new Float64Array(triggers.length * K);
  const byColumn = new Map(baseline.columns.map((c) => [c.column, c]));
  triggers.forEach((trigger, t) => {
    const column = batch.byName.get(trigger.column);
    const fitted = byColumn.get(trigger.column);
    if (column === undefined || fitted === undefined) return;
    for (let r = 0; r < batch.rowCount; r++) {
      const code = codes[r]!;
      if (code < 0) continue;
      let hit = false;
      if (trigger.kind === 'key') {
        hit = cellKey(column, r) === trigger.key;
      } else {
        const v = cellNumber(column, r);
        if (Number.isNaN(v)) continue;
        hit = trigger.kind === 'value' ? v === trigger.value : binOf(fitted as BinnedColumnBaseline, v) === trigger.bin;
      }
      if (!hit) continue;
      carrying[t * K + code]!++;
      if (code === trigger.labelCode) {
        rows.push(r);
        which.push(t);
      }
    }
  });
  const order = rows.map((_, i) => i).sort((a, b) => rows[a]! - rows[b]! || which[a]! - which[b]!);
  return { rows: Int32Array.from(order, (i) => rows[i]!), trigger: Int32Array.from(order, (i) => which[i]!), carrying };
}

/** Validates a trigger baseline read from a model file. */
export function triggerBaselineFromJson(json: unknown): TriggerBaseline {
  if (typeof json !== 'object' || json === null) throw new InputError('triggerBaseline must be an object');
  const o = json as Record<string, unknown>;
  if (o.version !== 1) throw new InputError(`triggerBaseline.version must be 1, got ${String(o.version)}`);
  if (!Array.isArray(o.classes) || !o.classes.every((c) => typeof c === 'string')) throw new InputError('triggerBaseline.classes must be strings');
  const K = o.classes.length;
  const isCounts = (v: unknown, length: number) => Array.isArray(v) && v.length === length && v.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0);
  if (!isCounts(o.classCounts, K)) throw new InputError(`triggerBaseline.classCounts must hold ${K} counts`);
  if (typeof o.rows !== 'number' || typeof o.maxKeys !== 'number') throw new InputError('triggerBaseline.rows and maxKeys must be numbers');
  if (!Array.isArray(o.columns)) throw new InputError('triggerBaseline.columns must be an array');
  for (const c of o.columns as Record<string, unknown>[]) {
    const name = typeof c?.column === 'string' ? c.column : '?';
    if (c?.kind === 'keys') {
      if (!Array.isArray(c.keys) || !c.keys.every((k) => typeof k === 'string') || !isCounts(c.counts, c.keys.length * K)) {
        throw new InputError(`triggerBaseline column '${name}': keys and counts do not match`);
      }
    } else if (c?.kind === 'bins') {
      const edges = c.edges as unknown;
      if (typeof c.min !== 'number' || typeof c.max !== 'number' || !Array.isArray(edges) || !edges.every((e) => typeof e === 'number')) {
        throw new InputError(`triggerBaseline column '${name}': bad bin edges`);
      }
      for (let i = 1; i < edges.length; i++) if (!((edges[i] as number) > (edges[i - 1] as number))) throw new InputError(`triggerBaseline column '${name}': edges are not ascending`);
      const spikes = c.spikes as unknown;
      if (!Array.isArray(spikes) || !spikes.every((x) => typeof x === 'number')) throw new InputError(`triggerBaseline column '${name}': spikes must be numbers`);
      const slots = edges.length + 3 + spikes.length;
      if (!isCounts(c.counts, slots * K) || !isCounts(c.modeCounts, slots) || !Array.isArray(c.modes) || c.modes.length !== slots) {
        throw new InputError(`triggerBaseline column '${name}': counts do not match the bins`);
      }
    } else {
      throw new InputError(`triggerBaseline column '${name}': kind must be 'keys' or 'bins'`);
    }
  }
  return json as TriggerBaseline;
}
