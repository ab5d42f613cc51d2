// Per-source statistics folded batch by batch: rows, quarantined rows, hits per reason and class
// balance by label, so a report can show that one feed carries most of the quarantine or has a
// skewed label mix. States merge, so batches, workers and shards combine into one result.
import type { Batch, Column } from '../core/types.js';

/** The key for rows when no source column is named. */
export const ALL_SOURCES = '(all)';
/** The key for a null source or label. */
export const NULL_KEY = '(null)';
/** The key rows fall under once `maxSources` distinct sources have been seen. */
export const OTHER_SOURCES = '(other)';

export interface LabelCounts {
  rows: number;
  quarantined: number;
}

export interface SourceSummary {
  rows: number;
  quarantined: number;
  /** Rows hit per reason code (a row can count under several). */
  reasons: Record<string, number>;
  /** Rows and quarantined rows per label value (absent when the contract names no label). */
  labels: Record<string, LabelCounts>;
}

export interface SourceStatsJson {
  readonly sourceColumn: string | null;
  readonly labelColumn: string | null;
  readonly sources: Readonly<Record<string, SourceSummary>>;
}

export interface SourceStatsOptions {
  readonly sourceColumn?: string | null;
  readonly labelColumn?: string | null;
  /** Distinct sources tracked before the rest are pooled under `(other)`; bounds memory. Default 1000. */
  readonly maxSources?: number;
}

/** One reason hit on one row of a batch (the row is the index within the batch). */
export interface RowHit {
  readonly row: number;
  readonly code: string;
}

/** A cell as a stable text key: strings as they are, numbers as JS prints them, bools as true/false. */
export function cellKey(column: Column, row: number): string {
  if ((column.valid !== null && column.valid[row] !== 1) || (column.bad !== null && column.bad[row] === 1)) return NULL_KEY;
  if (column.type === 'string') return column.values[row]!;
  if (column.type === 'bool') return column.values[row] === 1 ? 'true' : 'false';
  return String(column.values[row]);
}

interface Entry {
  rows: number;
  quarantined: number;
  reasons: Map<string, number>;
  labels: Map<string, LabelCounts>;
}

function newEntry(): Entry {
  return { rows: 0, quarantined: 0, reasons: new Map(), labels: new Map() };
}

function addCount(map: Map<string, number>, key: string, count: number): void {
  map.set(key, (map.get(key) ?? 0) + count);
}

function addLabel(map: Map<string, LabelCounts>, key: string, rows: number, quarantined: number): void {
  const counts = map.get(key);
  if (counts) {
    counts.rows += rows;
    counts.quarantined += quarantined;
  } else {
    map.set(key, { rows, quarantined });
  }
}

/** Rows and held rows per raw label value within one batch, with a row that holds each value. */
class LabelTally {
  /** A label takes few values: a short list searched with === beats a Map lookup a row. */
  private static readonly LISTED = 16;
  private readonly keys: (string | number)[] = [];
  private readonly counts: number[] = [];
  private readonly held: number[] = [];
  private readonly rows: number[] = [];
  /** Values beyond the listed ones (and NaN, which === never finds). */
  private readonly rest = new Map<string | number, [rows: number, held: number, row: number]>();

  add(raw: string | number, row: number, held: number): void {
    const keys = this.keys;
    for (let k = 0; k < keys.length; k++) {
      if (keys[k] === raw) {
        this.counts[k]!++;
        this.held[k]! += held;
        return;
      }
    }
    if (keys.length < LabelTally.LISTED && raw === raw) {
      keys.push(raw);
      this.counts.push(1);
      this.held.push(held);
      this.rows.push(row);
      return;
    }
    const counts = this.rest.get(raw);
    if (counts) {
      counts[0]++;
      counts[1] += held;
    } else {
      this.rest.set(raw, [1, held, row]);
    }
  }

  forEach(visit: (raw: string | number, rows: number, held: number, row: number) => void): void {
    this.keys.forEach((raw, k) => visit(raw, this.counts[k]!, this.held[k]!, this.rows[k]!));
    for (const [raw, [rows, held, row]] of this.rest) visit(raw, rows, held, row);
  }
}

export class SourceStats {
  readonly sourceColumn: string | null;
  readonly labelColumn: string | null;
  readonly maxSources: number;
  private readonly entries = new Map<string, Entry>();

  constructor(options: SourceStatsOptions = {}) {
    this.sourceColumn = options.sourceColumn ?? null;
    this.labelColumn = options.labelColumn ?? null;
    this.maxSources = options.maxSources ?? 1000;
  }

  private entry(source: string): Entry {
    let entry = this.entries.get(source);
    if (entry) return entry;
    const key = this.entries.size >= this.maxSources && source !== OTHER_SOURCES ? OTHER_SOURCES : source;
    entry = this.entries.get(key);
    if (!entry) {
      entry = newEntry();
      this.entries.set(key, entry);
    }
    return entry;
  }

  /**
   * Folds one batch. `quarantined[row]` is 1 for rows sent to quarantine (null: none were);
   * `hits` lists every reason hit, quarantining or not.
   */
  addBatch(batch: Batch, quarantined: Uint8Array | null, hits: Iterable<RowHit> = []): void {
    const sourceColumn = this.sourceColumn === null ? undefined : batch.byName.get(this.sourceColumn);
    const labelColumn = this.labelColumn === null ? undefined : batch.byName.get(this.labelColumn);
    // Rows of a batch usually come from one or a few sources: remember the last entry looked up.
    let lastKey: string | null = null;
    let lastEntry: Entry = newEntry();
    const entryAt = (row: number): Entry => {
      const key = sourceColumn ? cellKey(sourceColumn, row) : ALL_SOURCES;
      if (key !== lastKey) {
        lastKey = key;
        lastEntry = this.entry(key);
      }
      return lastEntry;
    };
    // Labels are tallied by their raw value first and turned into keys once per batch: a label
    // takes few values, and making its text key row by row would dominate the loop.
    const tallies = new Map<Entry, LabelTally>();
    let lastTallied: Entry | null = null;
    let tally: LabelTally | null = null;
    const labelValid = labelColumn?.valid ?? null;
    const labelBad = labelColumn?.bad ?? null;
    // With no source column every row falls under one entry: no per-row lookup.
    const onlyEntry = sourceColumn ? null : entryAt(0);
    for (let row = 0; row < batch.rowCount; row++) {
      const entry = onlyEntry ?? entryAt(row);
      const held = quarantined !== null && quarantined[row] === 1 ? 1 : 0;
      entry.rows++;
      entry.quarantined += held;
      if (!labelColumn) continue;
      if (entry !== lastTallied) {
        lastTallied = entry;
        tally = tallies.get(entry) ?? null;
        if (tally === null) tallies.set(entry, (tally = new LabelTally()));
      }
      const missing = (labelValid !== null && labelValid[row] !== 1) || (labelBad !== null && labelBad[row] === 1);
      tally!.add(missing ? NULL_KEY : (labelColumn.values[row] as string | number), row, held);
    }
    for (const [entry, counts] of tallies) {
      counts.forEach((raw, rows, held, row) => addLabel(entry.labels, raw === NULL_KEY ? NULL_KEY : cellKey(labelColumn!, row), rows, held));
    }
    for (const hit of hits) addCount(entryAt(hit.row).reasons, hit.code, 1);
  }

  /** Adds another accumulator's counts into this one (same columns expected). */
  merge(other: SourceStats): this {
    for (const [source, theirs] of other.entries) {
      const ours = this.entry(source);
      ours.rows += theirs.rows;
      ours.quarantined += theirs.quarantined;
      for (const [code, count] of theirs.reasons) addCount(ours.reasons, code, count);
      for (const [label, counts] of theirs.labels) addLabel(ours.labels, label, counts.rows, counts.quarantined);
    }
    return this;
  }

  get(source: string): SourceSummary | undefined {
    const entry = this.entries.get(source);
    return entry && summarise(entry);
  }

  /** Sources sorted by name, for the report. */
  toJSON(): SourceStatsJson {
    const sources: Record<string, SourceSummary> = {};
    for (const source of [...this.entries.keys()].sort()) sources[source] = summarise(this.entries.get(source)!);
    return { sourceColumn: this.sourceColumn, labelColumn: this.labelColumn, sources };
  }

  static fromJSON(json: SourceStatsJson, options: Pick<SourceStatsOptions, 'maxSources'> = {}): SourceStats {
    const stats = new SourceStats({ sourceColumn: json.sourceColumn, labelColumn: json.labelColumn, ...options });
    for (const [source, summary] of Object.entries(json.sources)) {
      const entry = stats.entry(source);
      entry.rows += summary.rows;
      entry.quarantined += summary.quarantined;
      for (const [code, count] of Object.entries(summary.reasons)) addCount(entry.reasons, code, count);
      for (const [label, counts] of Object.entries(summary.labels)) addLabel(entry.labels, label, counts.rows, counts.quarantined);
    }
    return stats;
  }
}

function sortedRecord<T>(map: ReadonlyMap<string, T>, copy: (value: T) => T): Record<string, T> {
  const out: Record<string, T> = {};
  for (const key of [...map.keys()].sort()) out[key] = copy(map.get(key)!);
  return out;
}

function summarise(entry: Entry): SourceSummary {
  return {
    rows: entry.rows,
    quarantined: entry.quarantined,
    reasons: sortedRecord(entry.reasons, (count) => count),
    labels: sortedRecord(entry.labels, (counts) => ({ ...counts })),
  };
}
