// infer: a contract from trusted data. Types come from the file (text formats are type-detected
// over the whole file); nullability, bounds and value sets from what the trusted rows hold.
import { DEFAULT_GATE, type AllowedValue, type ColumnContract, type Contract } from '../core/contract.js';
import { InputError } from '../core/errors.js';
import { HashSet64 } from '../core/hash-set.js';
import { hashRows } from '../core/row-hash.js';
import type { Batch, Column, LogicalType } from '../core/types.js';
import { formatOf, isTextFormat } from '../io/formats.js';
import { openSource } from '../io/source.js';
import { applyContractTypes } from './coerce.js';
import { basename, extname } from 'node:path';

export interface InferOptions {
  readonly name?: string;
  readonly label?: string;
  readonly id?: string;
  readonly source?: string;
  /** Widen observed bounds by this fraction of their range on each side. Default 0.1. */
  readonly margin?: number;
  /** String columns with at most this many distinct values get an `allowed` list. Default 20. */
  readonly maxCategories?: number;
  readonly gate?: { pass: number; warn: number };
  /** Told what the contract may get wrong about the data (a column typed string by a few odd values). */
  readonly onNote?: (message: string) => void;
}

/** A text column whose values are at least this share numbers is told as probably numeric. */
const MOSTLY_NUMBERS = 0.9;

/** The label column keeps its classes up to this many. */
const MAX_LABEL_CLASSES = 1000;

interface Profile {
  readonly name: string;
  readonly type: LogicalType;
  nulls: number;
  min: number;
  max: number;
  /** Distinct values while few enough to list; null once past the limit. */
  distinct: Map<string | number, AllowedValue> | null;
  /**
   * Text columns: values that read as numbers and values that do not, the first of them with its
   * row. Counted while the column may still be mostly numbers (and over its first 1,000 values).
   */
  numbers: number;
  others: number;
  firstText: { readonly row: number; readonly value: string } | null;
  /** Numeric columns: values that are NaN or infinite, which the bounds leave out. */
  nonFinite: number;
}

export async function inferContract(path: string, options: InferOptions = {}): Promise<Contract> {
  const margin = options.margin ?? 0.1;
  const maxCategories = options.maxCategories ?? 20;
  const source = await openSource(path, 'typed');
  const profiles: Profile[] = source.shape.columns.map((c) => ({
    name: c.name, type: c.type ?? 'string', nulls: 0,
    min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY, distinct: new Map(), numbers: 0, others: 0, firstText: null, nonFinite: 0,
  }));
  for (const role of ['label', 'id', 'source'] as const) {
    const name = options[role];
    if (name !== undefined && !profiles.some((p) => p.name === name)) {
      throw new InputError(`--${role} names column '${name}', which ${path} does not have (it has ${profiles.map((p) => p.name).join(', ')})`, { subject: path });
    }
  }
  let rows = 0;
  const repeats = new RepeatedRows(options.id);
  try {
    for await (const batch of source.batches()) {
      batch.columns.forEach((column, c) => {
        const profile = profiles[c]!;
        const limit = column.name === options.label ? MAX_LABEL_CLASSES : maxCategories;
        profileColumn(profile, column, batch.rowOffset, batch.rowCount, limit);
      });
      repeats.add(batch);
      rows += batch.rowCount;
    }
  } finally {
    await source.close();
  }
  if (rows === 0) throw new InputError('cannot infer a contract from a dataset with no rows', { subject: path });
  const labelProfile = profiles.find((p) => p.name === options.label);
  if (labelProfile !== undefined && labelProfile.distinct === null) {
    throw new InputError(`label column '${labelProfile.name}' has more than ${MAX_LABEL_CLASSES} distinct values`, { subject: path });
  }
  if (labelProfile !== undefined && labelProfile.nulls === rows) {
    throw new InputError(`label column '${labelProfile.name}' is empty in every row`, { subject: path });
  }
  // CSV is type-detected here but read as text by a scan, which needs the layout of any date or
  // timestamp that is not ISO-8601. Finding it reads the file once more: only when there is one.
  const hasTimestamps = profiles.some((p) => p.type === 'timestamp');
  const formats = formatOf(path) === 'csv' && hasTimestamps ? await (await import('../io/duckdb-source.js')).csvTimestampFormats(path) : new Map<string, string>();
  const columns = profiles.map((p) => columnContractOf(p, options, margin, formats.get(p.name)));
  for (const p of profiles) {
    const values = rows - p.nulls;
    if (p.type !== 'string' || p.firstText === null || p.numbers < MOSTLY_NUMBERS * values || p.name === options.id) continue;
    options.onNote?.(
      `column '${p.name}' is typed string, yet ${p.numbers} of its ${values} values are numbers; the first other one is '${p.firstText.value}' (row ${p.firstText.row}): fix the trusted data, or set its type and bounds by hand`,
    );
  }
  for (const p of profiles) {
    const column = columns.find((c) => c.name === p.name)!;
    if (p.nonFinite === 0 || (column.min === undefined && column.max === undefined)) continue;
    options.onNote?.(
      `column '${p.name}' holds ${p.nonFinite} NaN or infinite values in the ${rows} trusted rows; its bounds are those of the finite values, so a scan flags such values (range:${p.name})`,
    );
  }
  if (repeats.count > 0) {
    options.onNote?.(
      `${repeats.count} of the ${rows} trusted rows repeat an earlier row's content (the first is row ${repeats.first}), and a scan quarantines such rows (duplicate): where repeats are normal in this data, set "allowDuplicateRows": true in the contract`,
    );
  }
  for (const p of profiles) {
    if (p.nulls < rows || p.name === options.label) continue;
    options.onNote?.(`column '${p.name}' is empty in every trusted row: its type (${p.type}) is the reader's guess and any value passes; set its type and bounds by hand`);
  }
  // The label and the id are required in every row; trusted rows without them would be quarantined.
  for (const role of ['label', 'id'] as const) {
    const profile = profiles.find((p) => p.name === options[role]);
    if (profile === undefined || profile.nulls === 0) continue;
    options.onNote?.(
      `${role} column '${profile.name}' is empty in ${profile.nulls} of the ${rows} trusted rows (${((100 * profile.nulls) / rows).toFixed(1)}%); the contract requires it, so a scan quarantines such rows (${role === 'label' ? `label:${profile.name}` : `schema:null:${profile.name}`})`,
    );
  }
  const contract: Contract = {
    name: options.name ?? basename(path, extname(path)),
    description: `Inferred from ${basename(path)} (${rows} rows).`,
    ...(options.label !== undefined ? { label: options.label } : {}),
    ...(options.id !== undefined ? { id: options.id } : {}),
    ...(options.source !== undefined ? { source: options.source } : {}),
    gate: options.gate ?? DEFAULT_GATE,
    columns,
  };
  if (options.onNote !== undefined && isTextFormat(formatOf(path))) await noteUnreadValues(path, contract, rows, options.onNote);
  return contract;
}

/**
 * Reads the trusted file as a scan does (text parsed against the contract) and tells of each
 * column with values the contract does not read: a scan of the trusted data itself would
 * quarantine their rows. The type detection that chose the contract's types reads some text a
 * scan does not (a movie title 1776 as a JSON number among strings). Typed formats keep their
 * types, so only text formats are read again.
 */
async function noteUnreadValues(path: string, contract: Contract, rows: number, onNote: (message: string) => void): Promise<void> {
  const unread = new Map<string, { count: number; row: number; text: string; reason: string }>();
  const source = await openSource(path, 'raw');
  try {
    for await (const raw of source.batches()) {
      applyContractTypes(raw, contract).columns.forEach((column, c) => {
        if (column.bad === null) return;
        for (let i = 0; i < raw.rowCount; i++) {
          if (column.bad[i] !== 1) continue;
          const seen = unread.get(column.name);
          if (seen !== undefined) seen.count++;
          else unread.set(column.name, { count: 1, row: raw.rowOffset + i, text: String(raw.columns[c]!.values[i]), reason: `schema:${column.badKind}:${column.name}` });
        }
      });
    }
  } finally {
    await source.close();
  }
  for (const [name, { count, row, text, reason }] of unread) {
    const type = contract.columns.find((c) => c.name === name)!.type;
    onNote(
      `column '${name}': ${count} of the ${rows} trusted values do not read as ${type} the way a scan reads them, so a scan quarantines their rows (${reason}); the first is ${text} (row ${row})` +
        (type === 'timestamp' ? ": give the column the `format` its text is written in" : ''),
    );
  }
}

/**
 * Rows whose content (every column but the id) repeats an earlier row's, compared as typed
 * values: a scan of text compares the text as written, so it may count a few fewer ('1.0', '1').
 */
class RepeatedRows {
  private readonly seen = new HashSet64();
  private hi = new Uint32Array(0);
  private lo = new Uint32Array(0);
  private added = new Uint8Array(0);
  count = 0;
  first = -1;

  constructor(private readonly id: string | undefined) {}

  add(batch: Batch): void {
    const rows = batch.rowCount;
    if (this.hi.length < rows) {
      this.hi = new Uint32Array(rows);
      this.lo = new Uint32Array(rows);
      this.added = new Uint8Array(rows);
    }
    hashRows(batch.columns.filter((c) => c.name !== this.id), rows, this.hi, this.lo);
    this.seen.addAll(this.hi, this.lo, rows, this.added);
    for (let i = 0; i < rows; i++) {
      if (this.added[i] !== 0) continue;
      if (this.count++ === 0) this.first = batch.rowOffset + i;
    }
  }
}

function profileColumn(profile: Profile, column: Column, rowOffset: number, rowCount: number, limit: number): void {
  const { valid } = column;
  for (let i = 0; i < rowCount; i++) {
    if (valid !== null && valid[i] === 0) {
      profile.nulls++;
      continue;
    }
    const value = column.values[i]!;
    if (typeof value === 'number' && column.type !== 'bool') {
      if (!Number.isFinite(value)) profile.nonFinite++;
      else {
        if (value < profile.min) profile.min = value;
        if (value > profile.max) profile.max = value;
      }
    } else if (typeof value === 'string' && (profile.numbers + profile.others < 1000 || profile.numbers >= 9 * profile.others)) {
      const text = value.trim();
      if (text !== '' && Number.isFinite(Number(text))) profile.numbers++;
      else {
        profile.others++;
        profile.firstText ??= { row: rowOffset + i, value };
      }
    }
    if (profile.distinct !== null) {
      const allowed: AllowedValue = column.type === 'bool' ? value === 1 : (value as string | number);
      profile.distinct.set(value as string | number, allowed);
      if (profile.distinct.size > limit) profile.distinct = null;
    }
  }
}

function widen(profile: Profile, margin: number): { min: number; max: number } {
  const span = profile.max - profile.min;
  const pad = span > 0 ? span * margin : Math.abs(profile.max) * margin;
  // The margin does not cross zero: a column never negative in the trusted data (an amount, a
  // count, a ratio) keeps a lower bound of 0, so a negative value still fails the range check.
  let min = profile.min >= 0 ? Math.max(0, profile.min - pad) : profile.min - pad;
  let max = profile.max <= 0 ? Math.min(0, profile.max + pad) : profile.max + pad;
  if (profile.type === 'int') {
    min = Math.floor(min);
    max = Math.ceil(max);
  } else {
    // Keep the contract readable: 6 significant digits, rounded outwards.
    min = roundOut(min, Math.floor);
    max = roundOut(max, Math.ceil);
  }
  return { min, max };
}

function roundOut(value: number, direction: (x: number) => number): number {
  if (value === 0 || !Number.isFinite(value)) return value;
  const scale = 10 ** (5 - Math.floor(Math.log10(Math.abs(value))));
  return direction(value * scale) / scale;
}

function columnContractOf(profile: Profile, options: InferOptions, margin: number, format: string | undefined): ColumnContract {
  const isLabel = profile.name === options.label;
  const isId = profile.name === options.id;
  const column: { -readonly [K in keyof ColumnContract]: ColumnContract[K] } = {
    name: profile.name,
    type: profile.type,
    nullable: profile.nulls > 0 && !isLabel && !isId,
  };
  const hasValues = Number.isFinite(profile.min);
  if ((profile.type === 'int' || profile.type === 'float') && hasValues && !isId && !isLabel) {
    Object.assign(column, widen(profile, margin));
  }
  if (profile.type === 'timestamp' && hasValues) {
    // New data is newer than the trusted data, so only the lower bound is kept.
    column.min = new Date(Math.floor(widen(profile, margin).min / 1000)).toISOString();
  }
  if (profile.type === 'timestamp' && format !== undefined) column.format = format;
  const categorical = profile.type === 'string' || profile.type === 'bool' || isLabel;
  // A column with no value at all in the trusted rows has nothing to list: any value goes.
  if (categorical && profile.distinct !== null && profile.distinct.size > 0 && !isId) {
    column.allowed = [...profile.distinct.values()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }
  if (isId) column.unique = true;
  return column;
}
