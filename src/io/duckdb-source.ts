// Parquet, CSV and JSON Lines through DuckDB's streaming reader.
import type { DuckDBConnection } from '@duckdb/node-api';
import type { InputColumn, InputShape } from '../core/check.js';
import { InputError, firstLine } from '../core/errors.js';
import { makeBatch, type Batch, type Column } from '../core/types.js';
import { ColumnBuffer, connect, isNestedType, readPlanFor, sqlIdentifier, sqlString, type ReadPlan } from './duckdb.js';
import type { Format } from './formats.js';
import { assertRowCount, DEFAULT_BATCH_ROWS, type ReadMode, type ReadOptions, type Source } from './source.js';

/** The table function that reads a file, for the given mode. */
export function relationSql(path: string, format: Format, mode: ReadMode, jsonColumns?: readonly string[]): string {
  const file = sqlString(path);
  switch (format) {
    case 'parquet':
      return `read_parquet(${file})`;
    case 'csv':
      return mode === 'raw'
        ? `read_csv(${file}, header = true, all_varchar = true)`
        : `read_csv(${file}, header = true, sample_size = -1)`;
    case 'jsonl':
      if (mode === 'raw' && jsonColumns) {
        const columns = jsonColumns.map((name) => `${sqlString(name)}: 'JSON'`).join(', ');
        return `read_json(${file}, format = 'newline_delimited', columns = {${columns}})`;
      }
      return `read_json(${file}, format = 'newline_delimited', sample_size = -1)`;
    default:
      throw new Error(`DuckDB does not read ${format}`);
  }
}

/** DuckDB's messages start with its error class ("Invalid Input Error: "); keep what follows. */
export function duckdbMessage(error: unknown): string {
  return firstLine(error).replace(/^[A-Za-z ]*Error: /, '');
}

async function describe(connection: DuckDBConnection, relation: string, path: string): Promise<[string, string][]> {
  try {
    const reader = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${relation}`);
    return reader.getRows().map((row) => [String(row[0]), String(row[1])]);
  } catch (error) {
    throw new InputError(`cannot read: ${duckdbMessage(error)}`, { subject: path, cause: error });
  }
}

async function declaredParquetRows(connection: DuckDBConnection, path: string): Promise<number> {
  try {
    const reader = await connection.runAndReadAll(`SELECT num_rows FROM parquet_file_metadata(${sqlString(path)})`);
    return Number(reader.getRows()[0]![0]);
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

export async function openDuckDBSource(path: string, format: Format, mode: ReadMode): Promise<Source> {
  const connection = await connect();
  try {
    let relation = relationSql(path, format, mode);
    let described = await describe(connection, relation, path);
    if (format === 'jsonl' && mode === 'raw') {
      // Sniff the keys, then read every value as JSON text so its JSON type can be checked.
      relation = relationSql(path, format, mode, described.map(([name]) => name));
      described = await describe(connection, relation, path);
    }
    const plans = described.map(([name, sqlType]): ReadPlan => {
      if (isNestedType(sqlType)) throw new InputError(`unsupported: nested column ${name} (${sqlType})`, { subject: path });
      if (mode === 'raw' && format === 'csv') return textPlan(name, 'text', sqlType);
      if (mode === 'raw' && format === 'jsonl') return textPlan(name, 'json', sqlType);
      return readPlanFor(name, sqlType);
    });
    const declaredRows = format === 'parquet' ? await declaredParquetRows(connection, path) : null;
    const columns: InputColumn[] = plans.map((p) => ({ name: p.name, type: p.type, sourceType: p.sourceType }));
    const shape: InputShape = { path, format, columns, declaredRows };
    const select = `SELECT ${plans.map((p) => p.expression).join(', ')} FROM ${relation}`;
    return {
      path, format, mode, shape,
      batches: (options) => streamBatches(connection, select, plans, shape, options),
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
  options: ReadOptions = {},
): AsyncGenerator<Batch> {
  const batchRows = options.batchRows ?? DEFAULT_BATCH_ROWS;
  // A chunk is at most 2048 rows and is appended whole, so leave room for one past the target.
  const buffers = plans.map((plan) => new ColumnBuffer(plan, batchRows + 2048));
  let rowOffset = 0;
  let buffered = 0;
  const emit = (): Batch => {
    const columns = buffers.map((buffer) => toColumn(buffer));
    const batch = makeBatch(rowOffset, buffered, columns);
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
  for (;;) {
    let chunk;
    try {
      chunk = await result.fetchChunk();
    } catch (error) {
      throw new InputError(`cannot read row ${rowOffset + buffered}: ${duckdbMessage(error)}`, { subject: shape.path, cause: error });
    }
    if (!chunk || chunk.rowCount === 0) break;
    const count = chunk.rowCount;
    for (let c = 0; c < buffers.length; c++) buffers[c]!.append(chunk, c, count);
    buffered += count;
    if (buffered >= batchRows) yield emit();
  }
  if (buffered > 0) yield emit();
  assertRowCount(shape.path, shape.declaredRows, rowOffset);
}

function toColumn(buffer: ColumnBuffer): Column {
  const { plan } = buffer;
  const { valid, doubles, bytes, strings } = buffer.take();
  const base = { name: plan.name, sourceType: plan.sourceType, valid, bad: null };
  if (plan.vector === 'double') return { ...base, type: plan.type as 'int' | 'float' | 'timestamp', values: doubles };
  if (plan.vector === 'bool') return { ...base, type: 'bool', values: bytes };
  return { ...base, type: 'string', values: strings };
}
