// Parquet, CSV and JSON Lines through DuckDB's streaming reader.
import { open } from 'node:fs/promises';
import type { InputColumn, InputShape } from '../core/check.js';
import { InputError } from '../core/errors.js';
import { EXACT_DOUBLE_LIMIT, hashKey, makeBatch, makeColumn, type Batch, type Column } from '../core/types.js';
import { ChunkBytes, collectReadChunks, ColumnBuffer, connect, HashBuffer, RowTextSplitter, rowTextSql, isNestedType, readPlanFor, sqlIdentifier, sqlString, type DuckDBConnection, type ReadPlan } from './duckdb.js';
import type { Format } from './formats.js';
import { assertRowCount, DEFAULT_BATCH_ROWS, textBatchRows, type ReadMode, type ReadOptions, type RowRange, type Source } from './source.js';

// CSV is read with a fixed RFC 4180 dialect: DuckDB's dialect sniffer guesses a different
// delimiter for a file with one ragged row and then reads it without complaint.
const CSV_DIALECT = `header = true, delim = ',', quote = '"', escape = '"', strict_mode = true`;

/**
 * The table function that reads a file, for the given mode. Raw CSV and JSON Lines name their
 * columns (`rawColumns`), read as text or as JSON text.
 */
export function relationSql(path: string, format: Format, mode: ReadMode, rawColumns?: readonly string[]): string {
  const file = sqlString(path);
  const columnsOf = (type: string) => `{${rawColumns!.map((name) => `${sqlString(name)}: '${type}'`).join(', ')}}`;
  switch (format) {
    case 'parquet':
      return `read_parquet(${file})`;
    case 'csv':
      return mode === 'raw' && rawColumns
        ? `read_csv(${file}, auto_detect = false, ${CSV_DIALECT}, columns = ${columnsOf('VARCHAR')})`
        : `read_csv(${file}, ${CSV_DIALECT}, sample_size = -1)`;
    case 'jsonl':
      return mode === 'raw' && rawColumns
        ? `read_json(${file}, format = 'newline_delimited', columns = ${columnsOf('JSON')})`
        : `read_json(${file}, format = 'newline_delimited', sample_size = -1)`;
    default:
      throw new Error(`DuckDB does not read ${format}`);
  }
}

/**
 * DuckDB's message on one line: without its error class ("Invalid Input Error: "), with the
 * detail lines that locate a CSV error (line, expected columns) joined on.
 */
export function duckdbMessage(error: unknown): string {
  const lines = (error instanceof Error ? error.message : String(error)).split('\n').map((l) => l.trim()).filter(Boolean);
  const head = (lines[0] ?? '').replace(/^[A-Za-z ]*Error: /, '');
  const detail = lines.slice(1).filter((l) => /^(Original Line|Expected Number of Columns|Value with unterminated quote)/.test(l));
  return [head, ...detail.map((l) => (l.length > 120 ? `${l.slice(0, 117)}...` : l))].join('; ');
}

/** The first record of a CSV file: its column names. */
export async function csvHeader(path: string): Promise<string[]> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(1 << 20);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const text = buffer.toString('utf8', 0, bytesRead).replace(/^\uFEFF/, '');
    const fields: string[] = [];
    let field = '';
    let quoted = false;
    let i = 0;
    for (; i < text.length; i++) {
      const ch = text[i]!;
      if (quoted) {
        if (ch === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (ch === '"') quoted = false; else field += ch;
      } else if (ch === '"') quoted = true;
      else if (ch === ',') { fields.push(field); field = ''; } else if (ch === '\n' || ch === '\r') break;
      else field += ch;
    }
    if (text.length === 0) throw new InputError('empty CSV file: no header row', { subject: path });
    if (quoted) throw new InputError('CSV header has an unterminated quote', { subject: path });
    fields.push(field);
    const seen = new Set<string>();
    for (const name of fields) {
      if (name === '') throw new InputError('CSV header has an empty column name', { subject: path });
      if (seen.has(name)) throw new InputError(`CSV header names column '${name}' twice`, { subject: path });
      seen.add(name);
    }
    return fields;
  } finally {
    await handle.close();
  }
}

/**
 * Whether DuckDB reads this Parquet file. It does not decode Hadoop-framed LZ4 pages or
 * BYTE_STREAM_SPLIT on integer and fixed-length columns; those files go to the pure-JS reader.
 * A file whose metadata DuckDB cannot read stays with DuckDB, which then reports the damage.
 */
export async function duckdbReadsParquet(path: string): Promise<boolean> {
  const connection = await connect();
  try {
    const rows = await connection.rows(
      `SELECT count(*) FROM parquet_metadata(${sqlString(path)}) WHERE compression = 'LZ4' ` +
        `OR (encodings LIKE '%BYTE_STREAM_SPLIT%' AND type NOT IN ('FLOAT', 'DOUBLE'))`,
    );
    return Number(rows[0]![0]) === 0;
  } catch {
    return true;
  } finally {
    connection.closeSync();
  }
}

/** Layouts of ISO-8601 text, which timestamp columns read without a format. */
const ISO_LAYOUT = /^%Y-%m-%d(?:[T ]%H:%M(?::%S(?:\.%f)?)?)?(?:%z|Z)?$/;

/**
 * The strptime layout DuckDB's type detection found for each CSV column it typed as a date or a
 * timestamp, where that layout is not ISO-8601 ("%Y/%m/%d %H:%M:%S", "%m/%d/%Y"): what a scan,
 * which reads CSV as text, needs to read the column's values as timestamps.
 */
export async function csvTimestampFormats(path: string): Promise<Map<string, string>> {
  const connection = await connect();
  try {
    const rows = await connection.rows(
      `SELECT c.name, c.type, DateFormat, TimestampFormat FROM (SELECT unnest(Columns) AS c, DateFormat, TimestampFormat ` +
        `FROM sniff_csv(${sqlString(path)}, ${CSV_DIALECT}, sample_size = -1))`,
    );
    const formats = new Map<string, string>();
    for (const [name, type, dateFormat, timestampFormat] of rows) {
      const format = type === 'DATE' ? dateFormat : type === 'TIMESTAMP' ? timestampFormat : null;
      if (name !== null && format !== null && !ISO_LAYOUT.test(format)) formats.set(name, format);
    }
    return formats;
  } catch (error) {
    throw new InputError(`cannot read: ${duckdbMessage(error)}`, { subject: path, cause: error });
  } finally {
    connection.closeSync();
  }
}

/**
 * The INT64 columns of a Parquet file whose statistics allow a value past 2^53 (or that have
 * none), which are read exactly; null when the statistics cannot be read, and every INT64 column
 * is. The others, nearly all integer columns, are read as doubles at no extra cost.
 */
async function int64ColumnsPastDouble(connection: DuckDBConnection, path: string): Promise<Set<string> | null> {
  const rows = await connection.rows(
    `SELECT path_in_schema FROM parquet_metadata(${sqlString(path)}) WHERE type = 'INT64' GROUP BY path_in_schema ` +
      `HAVING bool_or(coalesce(abs(TRY_CAST(stats_min_value AS HUGEINT)) >= ${EXACT_DOUBLE_LIMIT} OR abs(TRY_CAST(stats_max_value AS HUGEINT)) >= ${EXACT_DOUBLE_LIMIT}, true))`,
  ).catch(() => null);
  // Statistics that cannot be read: every INT64 column is read exactly.
  return rows === null ? null : new Set(rows.map(([name]) => name!));
}

async function assertCsvWellFormed(path: string): Promise<void> {
  const source = await openDuckDBSource(path, 'csv', 'raw');
  try {
    for await (const batch of source.batches()) void batch;
  } finally {
    await source.close();
  }
}

async function describe(connection: DuckDBConnection, relation: string, path: string): Promise<[string, string][]> {
  try {
    const rows = await connection.rows(`DESCRIBE SELECT * FROM ${relation}`);
    return rows.map((row) => [String(row[0]), String(row[1])]);
  } catch (error) {
    throw new InputError(`cannot read: ${duckdbMessage(error)}`, { subject: path, cause: error });
  }
}

async function declaredParquetRows(connection: DuckDBConnection, path: string): Promise<number> {
  try {
    const rows = await connection.rows(`SELECT num_rows FROM parquet_file_metadata(${sqlString(path)})`);
    return Number(rows[0]![0]);
  } catch (error) {
    throw new InputError(`cannot read Parquet metadata: ${duckdbMessage(error)}`, { subject: path, cause: error });
  }
}

function textPlan(name: string, sourceType: string, sqlType: string): ReadPlan {
  const column = sqlIdentifier(name);
  return {
    name, sourceType, type: 'string', vector: 'varchar',
    expression: sqlType === 'VARCHAR' ? column : `CAST(${column} AS VARCHAR)`,
  };
}

/**
 * A JSON Lines key whose values mix JSON kinds (strings and an object, say), which DuckDB types
 * JSON: strings as the text they hold, as a scan reads them, anything else as its JSON text.
 */
function mixedJsonPlan(name: string): ReadPlan {
  const column = sqlIdentifier(name);
  return {
    name, sourceType: 'JSON', type: 'string', vector: 'varchar',
    expression: `CASE WHEN json_type(${column}) = 'VARCHAR' THEN json_extract_string(${column}, '$') ELSE CAST(${column} AS VARCHAR) END`,
  };
}

/**
 * Refuses a JSON Lines file with no record (empty, or only blank lines). It has no keys, so no
 * columns to check, and DuckDB would read it as one column named `json`.
 */
async function assertJsonLinesHasRecord(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(1 << 16);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) throw new InputError('empty JSON Lines file: no record, so no columns to read', { subject: path });
      for (let i = 0; i < bytesRead; i++) {
        const byte = buffer[i]!;
        // Anything but JSON whitespace (and a BOM's bytes) is a record's start, well-formed or not.
        if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09 && byte !== 0xef && byte !== 0xbb && byte !== 0xbf) return;
      }
    }
  } finally {
    await handle.close();
  }
}

export async function openDuckDBSource(path: string, format: Format, mode: ReadMode): Promise<Source> {
  if (format === 'jsonl') await assertJsonLinesHasRecord(path);
  const connection = await connect();
  try {
    let relation: string;
    if (format === 'csv' && mode === 'raw') {
      relation = relationSql(path, format, mode, await csvHeader(path));
    } else if (format === 'jsonl' && mode === 'raw') {
      // Sniff the keys, then read every value as JSON text so its JSON type can be checked.
      const keys = await describe(connection, relationSql(path, format, 'typed'), path);
      // A key that always holds objects or arrays is a nested column; a stray object in a
      // scalar column stays a row-level type error.
      const nested = keys.find(([, type]) => isNestedType(type));
      if (nested) throw new InputError(`unsupported: nested column ${nested[0]} (${nested[1]})`, { subject: path });
      relation = relationSql(path, format, mode, keys.map(([name]) => name));
    } else {
      if (format === 'csv') await csvHeader(path); // refuses an empty file or a broken header
      relation = relationSql(path, format, mode);
    }
    const described = await describe(connection, relation, path).catch(async (error: unknown) => {
      // The type sniffer fails on malformed CSV with a vague message; a strict text read
      // names the line instead.
      if (format === 'csv' && mode === 'typed') await assertCsvWellFormed(path);
      throw error;
    });
    const pastDouble = format === 'parquet' ? await int64ColumnsPastDouble(connection, path) : null;
    const plans = described.map(([name, sqlType]): ReadPlan => {
      if (isNestedType(sqlType)) throw new InputError(`unsupported: nested column ${name} (${sqlType})`, { subject: path });
      if (mode === 'raw' && format === 'csv') return textPlan(name, 'text', sqlType);
      if (mode === 'raw' && format === 'jsonl') return textPlan(name, 'json', sqlType);
      if (format === 'jsonl' && sqlType === 'JSON') return mixedJsonPlan(name);
      return readPlanFor(name, sqlType, pastDouble === null || pastDouble.has(name));
    });
    const declaredRows = format === 'parquet' ? await declaredParquetRows(connection, path) : null;
    const columns: InputColumn[] = plans.map((p) => ({ name: p.name, type: p.type, sourceType: p.sourceType }));
    const shape: InputShape = { path, format, columns, declaredRows };
    // Text read as text (CSV, JSON Lines) comes as one string a row (see rowTextSql).
    const rowText = mode === 'raw' && (format === 'csv' || format === 'jsonl') && plans.every((p) => p.vector === 'varchar');
    const select = (range?: RowRange, hashColumns: readonly (readonly string[])[] = []): string => {
      // Each hashed set becomes one more column after the input's: hash() of the values as read.
      const hashSql = hashColumns.map((names) => {
        const expressions = names.map((name) => {
          const plan = plans.find((p) => p.name === name);
          if (!plan) throw new Error(`cannot hash unknown column ${name}`);
          return plan.hashExpression ?? plan.expression;
        });
        return `hash(${expressions.join(', ')})`;
      });
      const columnsSql = [...(rowText ? [rowTextSql(plans.map((p) => p.expression))] : plans.map((p) => p.expression)), ...hashSql].join(', ');
      if (!range) return `SELECT ${columnsSql} FROM ${relation}`;
      // Parquet knows each row's position and skips row groups outside the range; text
      // formats are read from the start.
      if (format === 'parquet') {
        return `SELECT ${columnsSql} FROM read_parquet(${sqlString(path)}, file_row_number = true) ` +
          `WHERE file_row_number >= ${range.start} AND file_row_number < ${range.end}`;
      }
      return `SELECT ${columnsSql} FROM ${relation} LIMIT ${range.end - range.start} OFFSET ${range.start}`;
    };
    return {
      path, format, mode, shape, engine: 'duckdb',
      batches: (options = {}) => streamBatches(connection, select(options.range, options.hashColumns), plans, shape, rowText, options),
      close: async () => connection.closeSync(),
    };
  } catch (error) {
    connection.closeSync();
    throw error;
  }
}

async function* streamBatches(
  connection: DuckDBConnection,
  select: string,
  plans: readonly ReadPlan[],
  shape: InputShape,
  rowText: boolean,
  options: ReadOptions = {},
): AsyncGenerator<Batch> {
  const batchRows = options.batchRows ?? (rowText ? textBatchRows(plans.length) : DEFAULT_BATCH_ROWS);
  const start = options.range?.start ?? 0;
  // Batches hold exactly batchRows rows (the last one fewer), counted from row 0 of the range,
  // so a range that starts on a multiple of batchRows sees the batches a whole scan sees.
  const buffers = plans.map((plan) => new ColumnBuffer(plan, batchRows));
  const splitter = rowText ? new RowTextSplitter(buffers) : null;
  const firstHashColumn = splitter ? 1 : buffers.length;
  const hashColumns = options.hashColumns ?? [];
  const hashBuffers = hashColumns.map(() => new HashBuffer(batchRows));
  let rowOffset = start;
  let buffered = 0;
  const emit = (): Batch => {
    // The batch's chunks are copied out: free them now rather than whenever the collector runs.
    collectReadChunks();
    const columns = buffers.map((buffer) => toColumn(buffer));
    const rowHashes = hashColumns.length > 0 ? new Map(hashColumns.map((names, k) => [hashKey(names), hashBuffers[k]!.take()])) : undefined;
    const batch = makeBatch(rowOffset, buffered, columns, undefined, rowHashes);
    rowOffset += buffered;
    buffered = 0;
    return batch;
  };
  let result;
  try {
    result = await connection.stream(select);
  } catch (error) {
    throw new InputError(`cannot read: ${duckdbMessage(error)}`, { subject: shape.path, cause: error });
  }
  const stream = result;
  let pending: ReturnType<typeof stream.fetchChunk> | undefined;
  const fetch = () => {
    const next = stream.fetchChunk();
    // Awaited below; a failure while this batch is still being used must not go unhandled.
    next.catch(() => undefined);
    return next;
  };
  try {
    pending = fetch();
    for (;;) {
      let chunk;
      try {
        chunk = await pending;
      } catch (error) {
        throw new InputError(`cannot read row ${rowOffset + buffered}: ${duckdbMessage(error)}`, { subject: shape.path, cause: error });
      } finally {
        pending = undefined;
      }
      const bytes = chunk ? new ChunkBytes(chunk) : null;
      if (bytes === null || bytes.rowCount === 0) break;
      // DuckDB makes the next chunk while this one is copied (and while the batch is checked).
      pending = fetch();
      const count = bytes.rowCount;
      for (let from = 0; from < count; ) {
        const take = Math.min(count - from, batchRows - buffered);
        if (splitter) splitter.append(bytes, 0, from, take);
        else for (let c = 0; c < buffers.length; c++) buffers[c]!.append(bytes, c, from, take);
        for (let k = 0; k < hashBuffers.length; k++) hashBuffers[k]!.append(bytes, firstHashColumn + k, from, take);
        buffered += take;
        from += take;
        if (buffered === batchRows) yield emit();
      }
    }
  } finally {
    // A reader that stops early closes the connection next: no fetch may still be running then.
    if (pending !== undefined) await pending.catch(() => undefined);
  }
  if (buffered > 0) yield emit();
  assertRowCount(shape.path, shape.declaredRows, rowOffset - start, options.range);
}

function toColumn(buffer: ColumnBuffer): Column {
  const { plan } = buffer;
  const { valid, doubles, exact, bytes, strings } = buffer.take();
  const values = plan.vector === 'double' || plan.vector === 'int64' ? doubles : plan.vector === 'bool' ? bytes : strings;
  return makeColumn(plan.name, plan.sourceType, plan.type, values, valid, null, undefined, exact);
}
