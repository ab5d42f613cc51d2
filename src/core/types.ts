// The shapes every layer shares: a columnar batch of rows, the findings checks report on it,
// and the check contract itself. Core imports nothing from the other layers.

/** The five value types a contract can declare. */
export type LogicalType = 'int' | 'float' | 'string' | 'bool' | 'timestamp';
export const LOGICAL_TYPES: readonly LogicalType[] = ['int', 'float', 'string', 'bool', 'timestamp'];

interface ColumnBase {
  readonly name: string;
  /** The type the file stores (e.g. DOUBLE, INTEGER, VARCHAR, utf8, csv-text), for reports and writers. */
  readonly sourceType: string;
  /** 1 = value present and usable; null means every row is valid. */
  readonly valid: Uint8Array | null;
  /**
   * 1 = a value was present but could not be read as the column's logical type
   * (text that does not parse, a JSON string where a number was due). Such rows are also invalid.
   */
  readonly bad: Uint8Array | null;
  /** How `bad` values failed: `type` for a value of the wrong type, `unparseable` for text that does not parse. */
  readonly badKind?: 'type' | 'unparseable';
  /**
   * int columns: the values as exact 64-bit integers, when one of them lies past 2^53 (an int64
   * id), where its double in `values` is only the nearest; null otherwise. Checks and detectors
   * read `values`; writers and row hashes read these, so such ids are neither merged nor changed.
   */
  readonly exact?: BigInt64Array | null;
}

/** int, float and timestamp (epoch microseconds) columns share one numeric layout. */
export interface NumericColumn extends ColumnBase {
  readonly type: 'int' | 'float' | 'timestamp';
  readonly values: Float64Array;
}

export interface BoolColumn extends ColumnBase {
  readonly type: 'bool';
  readonly values: Uint8Array;
}

export interface StringColumn extends ColumnBase {
  readonly type: 'string';
  /** Invalid rows hold ''. */
  readonly values: string[];
}

export type Column = NumericColumn | BoolColumn | StringColumn;

/**
 * A column built with the one property order every reader and every step uses, so that code
 * reading columns meets a single object shape (a spread of another column does not keep it, and
 * V8 throws away code compiled for one shape when it meets another).
 */
export function makeColumn(
  name: string, sourceType: string, type: Column['type'], values: Column['values'], valid: Uint8Array | null, bad: Uint8Array | null,
  badKind?: 'type' | 'unparseable', exact: BigInt64Array | null = null,
): Column {
  return { name, sourceType, type, values, valid, bad, badKind, exact } as Column;
}

/** The column with other rows (sliced, gathered) of the same name and types. */
export function withRows(column: Column, values: Column['values'], valid: Uint8Array | null, bad: Uint8Array | null, exact: BigInt64Array | null = null): Column {
  return makeColumn(column.name, column.sourceType, column.type, values, valid, bad, column.badKind, exact);
}

/** Integers from 2^53 on are not all exact as doubles (2^53 + 1 reads as 2^53). */
export const EXACT_DOUBLE_LIMIT = 2 ** 53;

/** The int64 range, to which exact values are clamped. */
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/**
 * The exact values of an int column whose doubles pass 2^53 somewhere, or null when none does.
 * `exactAt(i)` gives row i's exact integer where it knows one (null: the double, rounded, is
 * taken); values beyond the int64 range are clamped to it, as the int64 writers clamp them.
 */
export function exactIntegers(values: Float64Array, valid: Uint8Array | null, exactAt: (row: number) => bigint | null): BigInt64Array | null {
  let past = false;
  for (let i = 0; i < values.length && !past; i++) past = Math.abs(values[i]!) >= EXACT_DOUBLE_LIMIT && (valid === null || valid[i] === 1);
  if (!past) return null;
  const exact = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if ((valid !== null && valid[i] !== 1) || !Number.isFinite(v)) continue;
    let big = Math.abs(v) >= EXACT_DOUBLE_LIMIT ? exactAt(i) ?? BigInt(Math.round(v)) : BigInt(v);
    if (big > INT64_MAX) big = INT64_MAX;
    else if (big < INT64_MIN) big = INT64_MIN;
    exact[i] = big;
  }
  return exact;
}

/** A slice of the dataset: rows [rowOffset, rowOffset + rowCount) of the input, column-major. */
export interface Batch {
  readonly rowOffset: number;
  readonly rowCount: number;
  readonly columns: readonly Column[];
  /** Column lookup by name. */
  readonly byName: ReadonlyMap<string, Column>;
  /**
   * The batch as read, before the contract's types were applied, when they differ (text
   * formats): checks that compare content, such as duplicates, compare the original text.
   */
  readonly raw?: Batch;
  /**
   * 64-bit hashes of each row's values over column sets a reader was asked to hash as it read
   * (ReadOptions.hashColumns), keyed by hashKey(columns). Absent when the reader cannot.
   */
  readonly rowHashes?: ReadonlyMap<string, RowHashes>;
}

/** A 64-bit hash a row, as two 32-bit halves. */
export interface RowHashes {
  readonly hi: Uint32Array;
  readonly lo: Uint32Array;
}

/** The key of a column set's hashes in Batch.rowHashes. */
export function hashKey(columns: readonly string[]): string {
  return JSON.stringify(columns);
}

export function makeBatch(rowOffset: number, rowCount: number, columns: Column[], raw?: Batch, rowHashes?: ReadonlyMap<string, RowHashes>): Batch {
  return { rowOffset, rowCount, columns, byName: new Map(columns.map((c) => [c.name, c])), raw, rowHashes };
}

export function isValid(column: Column, row: number): boolean {
  return column.valid === null || column.valid[row] === 1;
}

/** How much a dataset-level finding weighs in the verdict: `info` is told in the report and weighs nothing. */
export type Severity = 'info' | 'warn' | 'fail';

/**
 * A finding about the dataset as a whole (a missing column, drift, a provenance failure).
 * `holdAllRows` sends every row to quarantine with this code, leaving the clean set empty.
 */
export interface DatasetFinding {
  readonly check: string;
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  readonly holdAllRows?: boolean;
  readonly details?: Record<string, unknown>;
}

/** Rows [from, to) of a batch (indices within it), sharing its buffers. */
export function sliceBatch(batch: Batch, from: number, to: number): Batch {
  if (from === 0 && to === batch.rowCount) return batch;
  const columns = batch.columns.map((c): Column => {
    const valid = c.valid === null ? null : c.valid.subarray(from, to);
    const bad = c.bad === null ? null : c.bad.subarray(from, to);
    return withRows(c, c.type === 'string' ? c.values.slice(from, to) : c.values.subarray(from, to), valid, bad, c.exact?.subarray(from, to) ?? null);
  });
  const rowHashes = batch.rowHashes && new Map([...batch.rowHashes].map(([key, { hi, lo }]) => [key, { hi: hi.subarray(from, to), lo: lo.subarray(from, to) }]));
  return makeBatch(batch.rowOffset + from, to - from, columns, batch.raw && sliceBatch(batch.raw, from, to), rowHashes);
}
