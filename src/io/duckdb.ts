// DuckDB reads Parquet, CSV and JSON Lines natively and streams them in 2048-row chunks. This
// module owns the shared instance, maps DuckDB types to logical types, and copies chunk vectors
// into our columnar batches without going through per-value JS objects.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createRequire } from 'node:module';
import type { Connection, Database, DataChunk as DataChunkHandle, Result } from '@duckdb/node-bindings';
import { EXACT_DOUBLE_LIMIT, type LogicalType, type RowHashes } from '../core/types.js';

// The bindings are CommonJS. Loaded with require, not import: an ESM import of a CommonJS module
// first scans its source for named exports (about 80 ms more a scan). datawarden calls DuckDB's C
// API through them directly: @duckdb/node-api, the friendlier layer over them, takes about 65 ms
// to load (close to 700 module loads), on every command that reads data.
const require = createRequire(import.meta.url);
const bindings = require('@duckdb/node-bindings') as typeof import('@duckdb/node-bindings');

let database: Promise<Database> | undefined;

function openDatabase(): Promise<Database> {
  const options: Record<string, string | undefined> = {
    duckdb_api: 'datawarden',
    // Large COPY and sort work spills here instead of growing the heap.
    temp_directory: join(tmpdir(), `datawarden-duckdb-${process.pid}`),
    preserve_insertion_order: 'true',
    // Read-once streaming gains nothing from caching file blocks, and the cache grows with the file.
    enable_external_file_cache: 'false',
    // Queue workers run one job per process and core; DuckDB's default (every core) would oversubscribe.
    threads: process.env.DATAWARDEN_DUCKDB_THREADS || undefined,
    memory_limit: process.env.DATAWARDEN_DUCKDB_MEMORY || undefined,
    // No extension may be fetched at run time: everything datawarden reads is built in.
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  };
  const config = bindings.create_config();
  for (const [name, value] of Object.entries(options)) if (value !== undefined) bindings.set_config(config, name, value);
  return bindings.open(':memory:', config);
}

/** A new connection on the process-wide database; each stream needs its own connection. */
export async function connect(): Promise<DuckDBConnection> {
  database ??= openDatabase();
  return new DuckDBConnection(await bindings.connect(await database));
}

/** The few calls datawarden makes on a connection. */
export class DuckDBConnection {
  constructor(private readonly handle: Connection) {}

  /** Runs a statement to its end; the rows it changed (for a COPY, the rows written). */
  async run(sql: string): Promise<number> {
    return bindings.rows_changed(await bindings.query(this.handle, sql));
  }

  /** Every row of a (small) result, each value as its text, null for NULL. */
  async rows(sql: string): Promise<(string | null)[][]> {
    const result = await bindings.query(this.handle, `SELECT COLUMNS(*)::VARCHAR FROM (${sql})`);
    const columns = bindings.column_count(result);
    const rows: (string | null)[][] = [];
    for (;;) {
      const chunk = await bindings.fetch_chunk(result);
      const bytes = chunk === null ? null : new ChunkBytes(chunk);
      if (bytes === null || bytes.rowCount === 0) return rows;
      const vectors = Array.from({ length: columns }, (_, c) => {
        const { data, validity } = bytes.column(c, 16);
        return { view: new DataView(data.buffer, data.byteOffset, data.byteLength), validity };
      });
      for (let r = 0; r < bytes.rowCount; r++) {
        rows.push(vectors.map(({ view, validity }) =>
          validity !== null && ((validity[r >>> 3]! >>> (r & 7)) & 1) === 0 ? null : readString(view, r * 16)));
      }
    }
  }

  /** A result read chunk by chunk as DuckDB makes them (`fetchChunk`: null at the end). */
  async stream(sql: string): Promise<StreamingResult> {
    const prepared = await bindings.prepare(this.handle, sql);
    try {
      return new StreamingResult(await bindings.execute_prepared_streaming(prepared));
    } finally {
      bindings.destroy_prepare_sync(prepared);
    }
  }

  closeSync(): void {
    bindings.disconnect_sync(this.handle);
  }
}

export class StreamingResult {
  constructor(private readonly result: Result) {}

  fetchChunk(): Promise<DataChunkHandle | null> {
    return bindings.fetch_chunk(this.result);
  }
}

export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

export function sqlIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** How a DuckDB column reaches JS: as DOUBLE, BOOLEAN or VARCHAR, each with a logical type. */
export interface ReadPlan {
  readonly name: string;
  readonly sourceType: string;
  readonly type: LogicalType;
  /** How values arrive: 'int64' is read as doubles too, and kept exact when one passes 2^53. */
  readonly vector: 'double' | 'int64' | 'bool' | 'varchar';
  /** The SQL expression that selects the column in that vector type. */
  readonly expression: string;
  /** What the reader hashes for the column when asked (ReadOptions.hashColumns): `expression` unless set. */
  readonly hashExpression?: string;
}

const INTEGER_TYPES = new Set([
  'TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT', 'UHUGEINT',
]);
const TIMESTAMP_TYPES = new Set([
  'TIMESTAMP', 'TIMESTAMP_S', 'TIMESTAMP_MS', 'TIMESTAMP_NS', 'TIMESTAMP WITH TIME ZONE', 'DATETIME',
]);

/** Nested types (lists, structs, maps, unions, fixed arrays) are out of scope for row checks. */
export function isNestedType(sourceType: string): boolean {
  return /\[\d*\]$/.test(sourceType) || /^(STRUCT|MAP|UNION)\(/.test(sourceType);
}

/**
 * How a column of a DuckDB type is read. `mayPassDouble`: whether a BIGINT column may hold values
 * past 2^53 (an int64 id), which a double does not hold exactly; such a column is read as it is
 * stored and converted here, at some cost, and keeps its exact values. Parquet's statistics tell.
 */
export function readPlanFor(name: string, sourceType: string, mayPassDouble = true): ReadPlan {
  const column = sqlIdentifier(name);
  if (sourceType === 'BOOLEAN') return { name, sourceType, type: 'bool', vector: 'bool', expression: column };
  if (sourceType === 'BIGINT' && mayPassDouble) return { name, sourceType, type: 'int', vector: 'int64', expression: column };
  if (INTEGER_TYPES.has(sourceType)) {
    // Hashed as stored: an unsigned or 128-bit integer past 2^53 is not exact as a double either.
    return { name, sourceType, type: 'int', vector: 'double', expression: `CAST(${column} AS DOUBLE)`, hashExpression: column };
  }
  if (sourceType === 'FLOAT' || sourceType === 'DOUBLE' || sourceType.startsWith('DECIMAL')) {
    return { name, sourceType, type: 'float', vector: 'double', expression: `CAST(${column} AS DOUBLE)` };
  }
  if (TIMESTAMP_TYPES.has(sourceType)) {
    return { name, sourceType, type: 'timestamp', vector: 'double', expression: `CAST(epoch_us(${column}) AS DOUBLE)` };
  }
  if (sourceType === 'DATE') {
    return {
      name, sourceType, type: 'timestamp', vector: 'double',
      expression: `CAST(epoch_us(CAST(${column} AS TIMESTAMP)) AS DOUBLE)`,
    };
  }
  // VARCHAR, BLOB, UUID, ENUM, TIME, INTERVAL, JSON: their text form.
  return {
    name, sourceType, type: 'string', vector: 'varchar',
    expression: sourceType === 'VARCHAR' ? column : `CAST(${column} AS VARCHAR)`,
  };
}

/**
 * A chunk's vectors read straight through the bindings as bytes: the API's vector objects look
 * up each vector's type and wrap it in several objects, once per column and chunk, and reading
 * values through getItem() costs a JS object (or a BigInt) per value.
 */
export class ChunkBytes {
  readonly rowCount: number;
  private readonly handle: DataChunkHandle;

  constructor(chunk: DataChunkHandle) {
    this.handle = chunk;
    this.rowCount = bindings.data_chunk_get_size(chunk);
  }

  /** The column's values (`itemBytes` each) and its validity mask (64-bit words; null: all valid). */
  column(index: number, itemBytes: number): { data: Uint8Array; validity: Uint8Array | null } {
    const vector = bindings.data_chunk_get_vector(this.handle, index);
    const validity = bindings.vector_get_validity(vector, Math.ceil(this.rowCount / 64) * 8) as Uint8Array | null;
    return { data: bindings.vector_get_data(vector, this.rowCount * itemBytes), validity: validity ?? null };
  }
}

interface BufferSet {
  doubles: Float64Array;
  exact: BigInt64Array;
  bytes: Uint8Array;
  strings: string[];
  valid: Uint8Array;
}

type Collector = (options?: { type: 'minor' }) => void;
let youngCollector: Collector | null | undefined;

/**
 * Frees the chunks read so far. Each chunk's memory (2,048 rows of every column, outside the JS
 * heap) is released only when its small JS wrapper is collected, and a reader that copies rows
 * into reused arrays allocates too little for the collector to run often: a 5M-row read then
 * holds 100+ MB of dead chunks. A young-generation collection after each batch frees them for
 * well under a millisecond. Uses the process's gc() when exposed, else exposes one.
 */
export function collectReadChunks(): void {
  if (youngCollector === undefined) {
    youngCollector = typeof globalThis.gc === 'function' ? (globalThis.gc as Collector) : null;
    if (youngCollector === null) {
      try {
        setFlagsFromString('--expose-gc');
        youngCollector = runInNewContext('gc') as Collector;
      } catch {
        youngCollector = null;
      }
    }
  }
  youngCollector?.({ type: 'minor' });
}

/**
 * Columnar storage that chunks are copied into until a batch is full. Two sets of arrays take
 * turns, so reading allocates nothing per batch; a batch's arrays are therefore reused two
 * batches later, and whoever keeps values longer copies them (see Source.batches).
 */
export class ColumnBuffer {
  readonly plan: ReadPlan;
  private readonly sets: [BufferSet, BufferSet];
  private current = 0;
  private anyInvalid = false;
  /** An int64 column's batch holds a value past 2^53: its exact values go with the batch. */
  private anyPastDouble = false;
  private readonly inline = new InlineStrings();
  length = 0;

  constructor(plan: ReadPlan, capacity: number) {
    this.plan = plan;
    const make = (): BufferSet => ({
      doubles: plan.vector === 'double' || plan.vector === 'int64' ? new Float64Array(capacity) : new Float64Array(0),
      exact: plan.vector === 'int64' ? new BigInt64Array(capacity) : new BigInt64Array(0),
      bytes: plan.vector === 'bool' ? new Uint8Array(capacity) : new Uint8Array(0),
      strings: plan.vector === 'varchar' ? new Array<string>(capacity).fill('') : [],
      valid: new Uint8Array(capacity),
    });
    this.sets = [make(), make()];
  }

  /** Appends rows [from, from + count) of a chunk's vector. */
  append(chunk: ChunkBytes, columnIndex: number, from: number, count: number): void {
    const vector = this.plan.vector;
    const { data, validity } = chunk.column(columnIndex, vector === 'double' || vector === 'int64' ? 8 : vector === 'bool' ? 1 : 16);
    const set = this.sets[this.current]!;
    const at = this.length;
    if (validity === null) {
      set.valid.fill(1, at, at + count);
    } else {
      const words = new Uint32Array(validity.buffer, validity.byteOffset, validity.byteLength >>> 2);
      for (let i = 0; i < count; i++) {
        const j = from + i;
        const bit = (words[j >>> 5]! >>> (j & 31)) & 1;
        set.valid[at + i] = bit;
        if (bit === 0) this.anyInvalid = true;
      }
    }
    if (vector === 'double') {
      set.doubles.set(new Float64Array(data.buffer, data.byteOffset + from * 8, count), at);
    } else if (vector === 'int64') {
      set.exact.set(new BigInt64Array(data.buffer, data.byteOffset + from * 8, count), at);
      // high * 2^32 + low is exact, then rounded once: the double DuckDB's cast would give.
      const words = new Int32Array(data.buffer, data.byteOffset + from * 8, count * 2);
      const doubles = set.doubles;
      let largest = 0;
      for (let i = 0; i < count; i++) {
        const value = words[2 * i + 1]! * 4294967296 + (words[2 * i]! >>> 0);
        doubles[at + i] = value;
        largest = Math.max(largest, Math.abs(value));
      }
      if (largest >= EXACT_DOUBLE_LIMIT) this.anyPastDouble = true;
    } else if (vector === 'bool') {
      for (let i = 0; i < count; i++) set.bytes[at + i] = data[from + i]! === 0 ? 0 : 1;
    } else {
      const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
      for (let i = 0; i < count; i++) {
        set.strings[at + i] = set.valid[at + i] === 1 ? this.inline.read(view, (from + i) * 16) : '';
      }
    }
    this.length += count;
  }

  /** Appends one text cell (null for a null), for a text column read through RowTextSplitter. */
  pushText(text: string | null): void {
    const set = this.sets[this.current]!;
    const at = this.length++;
    if (text === null) {
      set.valid[at] = 0;
      set.strings[at] = '';
      this.anyInvalid = true;
    } else {
      set.valid[at] = 1;
      set.strings[at] = text;
    }
  }

  /** Hands over the filled rows as column arrays and switches to the other set. */
  take(): { valid: Uint8Array | null; doubles: Float64Array; exact: BigInt64Array | null; bytes: Uint8Array; strings: string[] } {
    const n = this.length;
    const set = this.sets[this.current]!;
    const taken = {
      valid: this.anyInvalid ? set.valid.subarray(0, n) : null,
      doubles: set.doubles.subarray(0, n),
      exact: this.anyPastDouble ? set.exact.subarray(0, n) : null,
      bytes: set.bytes.subarray(0, n),
      // A full batch hands its array over as it is (reused two batches later, as the typed
      // arrays are): a copy a batch would be garbage that outlives a young collection.
      strings: this.plan.vector === 'varchar' && n < set.strings.length ? set.strings.slice(0, n) : set.strings,
    };
    this.current = 1 - this.current;
    this.anyInvalid = false;
    this.anyPastDouble = false;
    this.length = 0;
    return taken;
  }
}

/**
 * Row hashes read from a UBIGINT column (DuckDB's hash() of a column set) as two 32-bit halves,
 * in two sets of arrays taking turns like ColumnBuffer's.
 */
export class HashBuffer {
  private readonly sets: { hi: Uint32Array; lo: Uint32Array }[];
  private current = 0;
  private length = 0;

  constructor(capacity: number) {
    const make = () => ({ hi: new Uint32Array(capacity), lo: new Uint32Array(capacity) });
    this.sets = [make(), make()];
  }

  /** Appends rows [from, from + count) of a chunk's hash column. */
  append(chunk: ChunkBytes, columnIndex: number, from: number, count: number): void {
    const { data } = chunk.column(columnIndex, 8);
    // Little-endian: a hash's low word comes first.
    const words = new Uint32Array(data.buffer, data.byteOffset, data.byteLength >>> 2);
    const { hi, lo } = this.sets[this.current]!;
    const at = this.length;
    for (let i = 0; i < count; i++) {
      lo[at + i] = words[2 * (from + i)]!;
      hi[at + i] = words[2 * (from + i) + 1]!;
    }
    this.length += count;
  }

  take(): RowHashes {
    const n = this.length;
    const { hi, lo } = this.sets[this.current]!;
    this.current = 1 - this.current;
    this.length = 0;
    return { hi: hi.subarray(0, n), lo: lo.subarray(0, n) };
  }
}

/**
 * One VARCHAR holding a row's text cells, each as `<bytes>:<text>` and a null as `!`. DuckDB keeps
 * a string longer than 12 bytes out of line and each costs a call into the bindings to read, so
 * text formats, whose numbers are text and rarely that short, fetch one such string a row.
 * One variadic concat() builds it: a chain of `||` makes every prefix of the row as a string of
 * its own, which is quadratic in the columns (a 301-column CSV of 5,000 rows took 1.9 GB).
 */
export function rowTextSql(expressions: readonly string[]): string {
  return `concat(${expressions.map((e) => `(CASE WHEN ${e} IS NULL THEN '!' ELSE strlen(${e}) || ':' || ${e} END)`).join(', ')})`;
}

/** Splits the strings rowTextSql() makes into the text columns' buffers. */
export class RowTextSplitter {
  constructor(private readonly buffers: readonly ColumnBuffer[]) {}

  /** Appends rows [from, from + count) of a chunk's row-text column. */
  append(chunk: ChunkBytes, columnIndex: number, from: number, count: number): void {
    const { data } = chunk.column(columnIndex, 16);
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    for (let i = from; i < from + count; i++) {
      const length = view.getUint32(i * 16, true);
      const bytes = length <= 12 ? new Uint8Array(view.buffer, view.byteOffset + i * 16 + 4, length) : pointedBytes(view, i * 16, length);
      const text = utf8.decode(bytes);
      // ASCII (as long in characters as in bytes): cells are cut from the decoded row; else each
      // cell's bytes are decoded on their own.
      this.split(bytes, text.length === length ? text : null);
    }
  }

  private split(row: Uint8Array, ascii: string | null): void {
    let at = 0;
    for (const buffer of this.buffers) {
      if (row[at] === 33) { // !
        buffer.pushText(null);
        at++;
        continue;
      }
      let bytes = 0;
      for (let c = row[at++]; c !== 58; c = row[at++]) { // :
        if (c === undefined || c < 48 || c > 57) throw new Error(`row text: a digit or ':' expected at ${at - 1}`);
        bytes = bytes * 10 + c - 48;
      }
      buffer.pushText(ascii !== null ? ascii.substring(at, at + bytes) : utf8.decode(row.subarray(at, at + bytes)));
      at += bytes;
    }
  }
}

const utf8 = new TextDecoder();
const INLINE_SLOTS = 4096;

/**
 * Strings of up to 12 bytes sit inside DuckDB's 16-byte string_t, so those 16 bytes identify
 * them. Categories repeat, and decoding each occurrence costs an allocation; this cache hands
 * back the same JS string for the same 16 bytes, which also lets later Map lookups reuse the
 * string's cached hash.
 */
class InlineStrings {
  private readonly words = new Uint32Array(INLINE_SLOTS * 4);
  private readonly strings = new Array<string | undefined>(INLINE_SLOTS);

  read(view: DataView, offset: number): string {
    const length = view.getUint32(offset, true);
    if (length > 12) return readString(view, offset);
    const w1 = view.getUint32(offset + 4, true);
    const w2 = view.getUint32(offset + 8, true);
    const w3 = view.getUint32(offset + 12, true);
    const slot = (Math.imul(w1 ^ Math.imul(w2, 0x9e3779b1) ^ Math.imul(w3, 0x85ebca6b) ^ length, 0x27d4eb2f) >>> 20) & (INLINE_SLOTS - 1);
    const at = slot * 4;
    const cached = this.strings[slot];
    if (cached !== undefined && this.words[at] === length && this.words[at + 1] === w1 && this.words[at + 2] === w2 && this.words[at + 3] === w3) {
      return cached;
    }
    const text = readString(view, offset);
    this.words[at] = length;
    this.words[at + 1] = w1;
    this.words[at + 2] = w2;
    this.words[at + 3] = w3;
    this.strings[slot] = text;
    return text;
  }
}

/**
 * Reads a DuckDB string_t (16 bytes: length, then up to 12 inline bytes or a prefix and a pointer).
 * Short ASCII strings, the common case for categories, skip TextDecoder.
 */
function readString(view: DataView, offset: number): string {
  const length = view.getUint32(offset, true);
  if (length <= 12) {
    const start = view.byteOffset + offset + 4;
    const bytes = new Uint8Array(view.buffer, start, length);
    let ascii = true;
    for (let i = 0; i < length; i++) if (bytes[i]! > 0x7f) ascii = false;
    if (ascii) return String.fromCharCode.apply(null, bytes as unknown as number[]);
    return utf8.decode(bytes);
  }
  return utf8.decode(pointedBytes(view, offset, length));
}

function pointedBytes(view: DataView, offset: number, length: number): Uint8Array {
  return bindings.get_data_from_pointer(view.buffer as ArrayBuffer, view.byteOffset + offset + 8, length);
}
