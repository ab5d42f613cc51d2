// Encodes one column chunk (the column's rows in one row group) into Parquet pages, with the
// chunk's statistics. Pages come out one at a time so only one page is held encoded at once.
import { ByteWriter, utf8Bytes, writeUtf8 } from './bytes.js';
import { countNulls, writeDefinitionLevels, writeHybrid, writePackedBooleans } from './levels.js';

export type PhysicalType = 'BOOLEAN' | 'INT32' | 'INT64' | 'FLOAT' | 'DOUBLE' | 'BYTE_ARRAY';

export const PHYSICAL_TYPE_IDS: Record<PhysicalType, number> = {
  BOOLEAN: 0, INT32: 1, INT64: 2, FLOAT: 4, DOUBLE: 5, BYTE_ARRAY: 6,
};

export const Encoding = { PLAIN: 0, RLE: 3, RLE_DICTIONARY: 8 } as const;

/** A column's values in the shape batches hold them, for rows [0, rows). */
export type ColumnValues =
  | {
    readonly kind: 'number'; readonly values: Float64Array; readonly valid: Uint8Array | null;
    /** int columns with a value past 2^53: the exact values, which INT64 pages then hold. */
    readonly exact?: BigInt64Array | null;
  }
  | { readonly kind: 'bool'; readonly values: Uint8Array; readonly valid: Uint8Array | null }
  | { readonly kind: 'string'; readonly values: readonly string[]; readonly valid: Uint8Array | null };

export interface Page {
  readonly kind: 'dictionary' | 'data';
  /** Values in the page: dictionary entries, or rows (nulls included) for a data page. */
  readonly count: number;
  readonly encoding: number;
  /** The uncompressed page; it is overwritten when the next page is produced. */
  readonly body: Uint8Array;
}

export interface ChunkStatistics {
  readonly nullCount: number;
  readonly min?: Uint8Array;
  readonly max?: Uint8Array;
}

export interface ChunkSummary {
  /** Every encoding used in the chunk (values and levels). */
  readonly encodings: number[];
  readonly statistics: ChunkStatistics;
}

/** Target size of a data page before compression. */
const PAGE_BYTES = 1 << 20;
const MAX_PAGE_ROWS = 1 << 20;
/** Longest string min/max kept in statistics; longer ones are left out rather than truncated. */
const MAX_STAT_BYTES = 1024;
/** Dictionary encoding is used while distinct values stay within this share of the rows... */
const MAX_DICTIONARY_SHARE = 0.5;
/** ...and within this count, so indices fit 16 bits... */
const MAX_DICTIONARY_SIZE = 65535;
/** ...and within this many UTF-16 units in all, so a dictionary page stays a few MB at most. */
const MAX_DICTIONARY_CHARS = 1 << 22;

/**
 * Buffers reused from page to page. Each writer owns one: pages are produced lazily across
 * awaits, so two writers sharing buffers could overwrite each other's pages.
 */
export class Scratch {
  readonly body = new ByteWriter(1 << 16);
  readonly strings = new ByteWriter(1 << 16);
  private f64 = new Float64Array(0);
  private f32 = new Float32Array(0);
  private i32 = new Int32Array(0);

  doubles(n: number): Float64Array {
    if (this.f64.length < n) this.f64 = new Float64Array(Math.max(n, this.f64.length * 2));
    return this.f64;
  }
  floats(n: number): Float32Array {
    if (this.f32.length < n) this.f32 = new Float32Array(Math.max(n, this.f32.length * 2));
    return this.f32;
  }
  ints(n: number): Int32Array {
    if (this.i32.length < n) this.i32 = new Int32Array(Math.max(n, this.i32.length * 2));
    return this.i32;
  }

  /**
   * Whether `body` is the scratch page and fills most of its memory, so that handing the
   * memory over beats copying (a small page never pins a large buffer).
   */
  isLargeBody(body: Uint8Array): boolean {
    const own = this.body.buffer;
    return body.buffer === own.buffer && body.byteOffset === own.byteOffset && body.length >= own.length / 2;
  }
}

function bytesOf(view: ArrayBufferView, count: number, width: number): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, count * width);
}

/** values[from, to) without the null rows (a view when nothing needs skipping). */
function presentDoubles(scratch: Scratch, values: Float64Array, valid: Uint8Array | null, from: number, to: number, nulls: number): Float64Array {
  if (valid === null || nulls === 0) return values.subarray(from, to);
  const out = scratch.doubles(to - from - nulls);
  let k = 0;
  for (let i = from; i < to; i++) if (valid[i] === 1) out[k++] = values[i]!;
  return out.subarray(0, k);
}

class NumberRange {
  min = Infinity;
  max = -Infinity;
  nan = false;

  // One loop per array type, so each loop's element access stays monomorphic.
  addDoubles(values: Float64Array): void {
    let min = this.min;
    let max = this.max;
    let nan = false;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
      if (v !== v) nan = true;
    }
    this.set(min, max, nan);
  }

  addFloats(values: Float32Array): void {
    let min = this.min;
    let max = this.max;
    let nan = false;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
      if (v !== v) nan = true;
    }
    this.set(min, max, nan);
  }

  addInts(values: Int32Array): void {
    let min = this.min;
    let max = this.max;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    this.set(min, max, false);
  }

  private set(min: number, max: number, nan: boolean): void {
    this.min = min;
    this.max = max;
    if (nan) this.nan = true;
  }

  /** True when some value other than NaN was seen. */
  get seen(): boolean {
    return this.min <= this.max;
  }
}

function encodeNumberStat(type: PhysicalType, value: number): Uint8Array {
  const out = new Uint8Array(type === 'DOUBLE' ? 8 : 4);
  const view = new DataView(out.buffer);
  if (type === 'INT32') view.setInt32(0, value, true);
  else if (type === 'FLOAT') view.setFloat32(0, value, true);
  else view.setFloat64(0, value, true);
  return out;
}

const TWO_32 = 4294967296;
const INT64_LIMIT = 9223372036854775807; // rounds to 2^63 as a double

/**
 * Rounds values to integers and writes them as little-endian 64-bit words into `out`; values
 * that are not finite become 0 and values beyond the 64-bit range saturate.
 */
function toInt64Words(values: Float64Array, out: Int32Array, range: NumberRange): void {
  let min = range.min;
  let max = range.max;
  for (let i = 0; i < values.length; i++) {
    let v = values[i]!;
    if (v >= -2147483648 && v <= 2147483647) {
      v = Math.round(v);
      out[2 * i] = v;
      out[2 * i + 1] = v < 0 ? -1 : 0;
    } else {
      if (!Number.isFinite(v)) v = 0;
      else if (v >= INT64_LIMIT) v = INT64_LIMIT;
      else if (v < -INT64_LIMIT) v = -INT64_LIMIT - 1;
      else v = Math.round(v);
      if (v === INT64_LIMIT) {
        out[2 * i] = -1;
        out[2 * i + 1] = 0x7fffffff;
      } else {
        const hi = Math.floor(v / TWO_32);
        out[2 * i] = v - hi * TWO_32;
        out[2 * i + 1] = hi;
      }
    }
    if (v < min) min = v;
    if (v > max) max = v;
  }
  range.min = min;
  range.max = max;
}

function int64Stat(value: number | bigint): Uint8Array {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  if (typeof value === 'bigint') view.setBigInt64(0, value, true);
  else if (value >= INT64_LIMIT) view.setBigInt64(0, 0x7fffffffffffffffn, true);
  else view.setBigInt64(0, BigInt(value), true);
  return out;
}

/** INT64 pages from exact values (an int column past 2^53), with their exact bounds. */
function* exactInt64Pages(
  scratch: Scratch, exact: BigInt64Array, valid: Uint8Array | null, rows: number, bounds: { min: bigint | null; max: bigint | null },
): Generator<Page, void> {
  const pageRows = Math.min(MAX_PAGE_ROWS, PAGE_BYTES / 8);
  const body = scratch.body;
  for (let from = 0; from < rows; from += pageRows) {
    const to = Math.min(rows, from + pageRows);
    const nulls = countNulls(valid, from, to);
    const present = new BigInt64Array(to - from - nulls);
    let k = 0;
    for (let i = from; i < to; i++) {
      if (valid !== null && valid[i] === 0) continue;
      const value = exact[i]!;
      present[k++] = value;
      if (bounds.min === null || value < bounds.min) bounds.min = value;
      if (bounds.max === null || value > bounds.max) bounds.max = value;
    }
    body.reset();
    writeDefinitionLevels(body, valid, from, to, nulls);
    body.bytes(new Uint8Array(present.buffer, 0, k * 8));
    yield { kind: 'data', count: to - from, encoding: Encoding.PLAIN, body: body.view() };
  }
}

function* numberPages(
  scratch: Scratch, type: PhysicalType, values: Float64Array, valid: Uint8Array | null, rows: number, range: NumberRange,
): Generator<Page, void> {
  const width = type === 'INT32' || type === 'FLOAT' ? 4 : 8;
  const pageRows = Math.min(MAX_PAGE_ROWS, PAGE_BYTES / width);
  const body = scratch.body;
  for (let from = 0; from < rows; from += pageRows) {
    const to = Math.min(rows, from + pageRows);
    const nulls = countNulls(valid, from, to);
    const present = presentDoubles(scratch, values, valid, from, to, nulls);
    const n = present.length;
    body.reset();
    writeDefinitionLevels(body, valid, from, to, nulls);
    switch (type) {
      case 'DOUBLE':
        range.addDoubles(present);
        body.bytes(bytesOf(present, n, 8));
        break;
      case 'FLOAT': {
        const floats = scratch.floats(n).subarray(0, n);
        floats.set(present);
        range.addFloats(floats);
        body.bytes(bytesOf(floats, n, 4));
        break;
      }
      case 'INT32': {
        const ints = scratch.ints(n).subarray(0, n);
        ints.set(present);
        range.addInts(ints);
        body.bytes(bytesOf(ints, n, 4));
        break;
      }
      default: {
        const words = scratch.ints(2 * n);
        toInt64Words(present, words, range);
        body.bytes(bytesOf(words, n, 8));
      }
    }
    yield { kind: 'data', count: to - from, encoding: Encoding.PLAIN, body: body.view() };
  }
}

function numberStatistics(type: PhysicalType, range: NumberRange, nullCount: number): ChunkStatistics {
  // The format leaves NaN out of min/max, but DuckDB then prunes row groups for predicates
  // that NaN satisfies (it sorts NaN above everything), so chunks holding NaN get no bounds.
  if (!range.seen || range.nan) return { nullCount };
  if (type === 'INT64') return { nullCount, min: int64Stat(range.min), max: int64Stat(range.max) };
  // Zero bounds are written as -0 and +0 so readers that order the two either way stay correct.
  const min = range.min === 0 ? -0 : range.min;
  const max = range.max === 0 ? 0 : range.max;
  return { nullCount, min: encodeNumberStat(type, min), max: encodeNumberStat(type, max) };
}

function* boolPages(
  scratch: Scratch, values: Uint8Array, valid: Uint8Array | null, rows: number, seen: { t: boolean; f: boolean },
): Generator<Page, void> {
  const body = scratch.body;
  for (let from = 0; from < rows; from += MAX_PAGE_ROWS) {
    const to = Math.min(rows, from + MAX_PAGE_ROWS);
    const nulls = countNulls(valid, from, to);
    body.reset();
    writeDefinitionLevels(body, valid, from, to, nulls);
    writePackedBooleans(body, values, valid, from, to, to - from - nulls);
    for (let i = from; i < to && !(seen.t && seen.f); i++) {
      if (valid !== null && valid[i] === 0) continue;
      if (values[i] !== 0) seen.t = true;
      else seen.f = true;
    }
    yield { kind: 'data', count: to - from, encoding: Encoding.PLAIN, body: body.view() };
  }
}

/** Compares strings in Unicode code point order, which is the order of their UTF-8 bytes. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x !== y) {
      // UTF-16 puts surrogates (code points above U+FFFF) below U+E000..U+FFFF.
      if (x >= 0xd800 && y >= 0xd800) {
        if (x <= 0xdfff) x += 0x10000;
        if (y <= 0xdfff) y += 0x10000;
      }
      return x - y;
    }
  }
  return a.length - b.length;
}

class StringRange {
  min: string | null = null;
  max: string | null = null;

  add(value: string): void {
    if (this.min === null) {
      this.min = value;
      this.max = value;
    } else if (compareCodePoints(value, this.min) < 0) {
      this.min = value;
    } else if (compareCodePoints(value, this.max!) > 0) {
      this.max = value;
    }
  }

  statistics(nullCount: number): ChunkStatistics {
    if (this.min === null) return { nullCount };
    const min = utf8Bytes(this.min);
    const max = utf8Bytes(this.max!);
    if (min.length > MAX_STAT_BYTES || max.length > MAX_STAT_BYTES) return { nullCount };
    return { nullCount, min, max };
  }
}

/**
 * Dictionary indices for the present rows, or null when there are too many distinct values
 * for a dictionary to pay.
 */
function dictionaryOf(
  scratch: Scratch, values: readonly string[], valid: Uint8Array | null, rows: number, present: number,
): Dictionary | null {
  const limit = Math.min(MAX_DICTIONARY_SIZE, Math.floor(present * MAX_DICTIONARY_SHARE));
  if (limit < 1) return null;
  const lookup = new Map<string, number>();
  const entries: string[] = [];
  const indices = scratch.ints(present);
  let chars = 0;
  let k = 0;
  for (let i = 0; i < rows; i++) {
    if (valid !== null && valid[i] === 0) continue;
    const value = values[i]!;
    let index = lookup.get(value);
    if (index === undefined) {
      chars += value.length;
      if (entries.length === limit || chars > MAX_DICTIONARY_CHARS) return null;
      index = entries.length;
      lookup.set(value, index);
      entries.push(value);
    }
    indices[k++] = index;
  }
  return { entries, indices: indices.subarray(0, present) };
}

interface Dictionary {
  readonly entries: string[];
  readonly indices: Int32Array;
}

function* dictionaryPages(scratch: Scratch, dictionary: Dictionary, valid: Uint8Array | null, rows: number): Generator<Page, void> {
  const body = scratch.body;
  const { entries, indices } = dictionary;
  const dictionaryBody = new ByteWriter(64 + entries.length * 16);
  for (const entry of entries) {
    const at = dictionaryBody.length;
    dictionaryBody.uint32(0);
    const n = writeUtf8(dictionaryBody, entry);
    dictionaryBody.buffer[at] = n & 0xff;
    dictionaryBody.buffer[at + 1] = (n >>> 8) & 0xff;
    dictionaryBody.buffer[at + 2] = (n >>> 16) & 0xff;
    dictionaryBody.buffer[at + 3] = n >>> 24;
  }
  yield { kind: 'dictionary', count: entries.length, encoding: Encoding.PLAIN, body: dictionaryBody.view() };
  let bitWidth = 1;
  while (1 << bitWidth < entries.length) bitWidth++;
  let k = 0;
  for (let from = 0; from < rows; from += MAX_PAGE_ROWS) {
    const to = Math.min(rows, from + MAX_PAGE_ROWS);
    const nulls = countNulls(valid, from, to);
    const present = to - from - nulls;
    body.reset();
    writeDefinitionLevels(body, valid, from, to, nulls);
    body.byte(bitWidth);
    writeHybrid(body, indices, k, k + present, bitWidth);
    k += present;
    yield { kind: 'data', count: to - from, encoding: Encoding.RLE_DICTIONARY, body: body.view() };
  }
}

function* plainStringPages(
  scratch: Scratch, values: readonly string[], valid: Uint8Array | null, rows: number, range: StringRange,
): Generator<Page, void> {
  const body = scratch.body;
  const stringValues = scratch.strings;
  let from = 0;
  do {
    stringValues.reset();
    let to = from;
    const stop = Math.min(rows, from + MAX_PAGE_ROWS);
    while (to < stop && stringValues.length < PAGE_BYTES) {
      if (valid === null || valid[to] === 1) {
        const value = values[to]!;
        range.add(value);
        const at = stringValues.length;
        stringValues.uint32(0);
        const n = writeUtf8(stringValues, value);
        const b = stringValues.buffer;
        b[at] = n & 0xff;
        b[at + 1] = (n >>> 8) & 0xff;
        b[at + 2] = (n >>> 16) & 0xff;
        b[at + 3] = n >>> 24;
      }
      to++;
    }
    body.reset();
    writeDefinitionLevels(body, valid, from, to, countNulls(valid, from, to));
    body.bytes(stringValues.view());
    yield { kind: 'data', count: to - from, encoding: Encoding.PLAIN, body: body.view() };
    from = to;
  } while (from < rows);
}

/**
 * The pages of one column chunk: for strings with few distinct values a dictionary page and
 * RLE_DICTIONARY data pages, otherwise PLAIN data pages. The return value sums the chunk up.
 */
export function* encodeChunk(scratch: Scratch, type: PhysicalType, column: ColumnValues, rows: number): Generator<Page, ChunkSummary> {
  const valid = column.valid;
  const nullCount = countNulls(valid, 0, rows);
  if (column.kind === 'string') {
    const dictionary = dictionaryOf(scratch, column.values, valid, rows, rows - nullCount);
    const range = new StringRange();
    if (dictionary !== null) {
      for (const entry of dictionary.entries) range.add(entry);
      yield* dictionaryPages(scratch, dictionary, valid, rows);
      return { encodings: [Encoding.PLAIN, Encoding.RLE, Encoding.RLE_DICTIONARY], statistics: range.statistics(nullCount) };
    }
    yield* plainStringPages(scratch, column.values, valid, rows, range);
    return { encodings: [Encoding.PLAIN, Encoding.RLE], statistics: range.statistics(nullCount) };
  }
  if (column.kind === 'bool') {
    const seen = { t: false, f: false };
    yield* boolPages(scratch, column.values, valid, rows, seen);
    const statistics = seen.t || seen.f
      ? { nullCount, min: Uint8Array.of(seen.f ? 0 : 1), max: Uint8Array.of(seen.t ? 1 : 0) }
      : { nullCount };
    return { encodings: [Encoding.PLAIN, Encoding.RLE], statistics };
  }
  if (type === 'INT64' && column.exact) {
    const bounds: { min: bigint | null; max: bigint | null } = { min: null, max: null };
    yield* exactInt64Pages(scratch, column.exact, valid, rows, bounds);
    const statistics = bounds.min === null || bounds.max === null ? { nullCount } : { nullCount, min: int64Stat(bounds.min), max: int64Stat(bounds.max) };
    return { encodings: [Encoding.PLAIN, Encoding.RLE], statistics };
  }
  const range = new NumberRange();
  yield* numberPages(scratch, type, column.values, valid, rows, range);
  return { encodings: [Encoding.PLAIN, Encoding.RLE], statistics: numberStatistics(type, range, nullCount) };
}
