// The second pass of a scan: every input row goes to exactly one of the clean and quarantine
// files. Parquet inputs are routed inside DuckDB (a join on the file row number, in row order);
// every other input streams through the writers again, gathering each batch's rows.
import type { DuckDBConnection } from '@duckdb/node-api';
import type { InputShape } from '../core/check.js';
import type { Contract } from '../core/contract.js';
import { InputError } from '../core/errors.js';
import { makeBatch, type Batch, type Column } from '../core/types.js';
import { applyContractTypes } from '../contract/coerce.js';
import { connect, sqlString } from '../io/duckdb.js';
import { duckdbMessage } from '../io/duckdb-source.js';
import type { Format } from '../io/formats.js';
import { openSource, type Engine } from '../io/source.js';
import { openWriter, type OutputColumn } from '../io/write/index.js';
import type { Quarantine } from './findings.js';

export interface RouteRequest {
  readonly input: InputShape;
  /** Parquet read by DuckDB is routed inside DuckDB. */
  readonly engine: Engine;
  readonly outFormat: Format;
  readonly cleanPath: string;
  readonly quarantinePath: string;
  readonly quarantine: Quarantine;
  /** Applied to clean rows written in another format than the input's, so they carry the contract's types. */
  readonly contract?: Contract;
}

export interface RouteResult {
  readonly cleanRows: number;
  readonly quarantineRows: number;
}

export const ROW_COLUMN = '_row';
export const REASONS_COLUMN = '_reasons';

const DUCKDB_OUTPUTS = new Set<Format>(['parquet', 'csv', 'jsonl']);

export async function writeRoutedOutputs(request: RouteRequest): Promise<RouteResult> {
  if (request.engine === 'duckdb' && request.input.format === 'parquet' && DUCKDB_OUTPUTS.has(request.outFormat)) {
    return routeInDuckDB(request);
  }
  return routeByStreaming(request);
}

export function copyOptions(format: Format): string {
  switch (format) {
    case 'parquet': return '(FORMAT parquet)';
    case 'csv': return '(FORMAT csv, HEADER true)';
    case 'jsonl': return '(FORMAT json)';
    default: throw new Error(`DuckDB does not write ${format}`);
  }
}

async function loadQuarantine(connection: DuckDBConnection, quarantine: Quarantine, table: string): Promise<void> {
  await connection.run(`CREATE TABLE ${table} (r BIGINT, s INTEGER)`);
  await connection.run(`CREATE TABLE ${table}_sets (s INTEGER, reasons VARCHAR)`);
  const rows = await connection.createAppender(table);
  for (let k = 0; k < quarantine.length; k++) {
    rows.appendBigInt(BigInt(quarantine.rows[k]!));
    rows.appendInteger(quarantine.reasonSets[k]!);
    rows.endRow();
  }
  rows.closeSync();
  const sets = await connection.createAppender(`${table}_sets`);
  quarantine.reasonSetTexts.forEach((text, id) => {
    sets.appendInteger(id);
    sets.appendVarchar(text);
    sets.endRow();
  });
  sets.closeSync();
}

let routeCounter = 0;

async function routeInDuckDB(request: RouteRequest): Promise<RouteResult> {
  const connection = await connect();
  const table = `datawarden_q_${process.pid}_${++routeCounter}`;
  const file = `read_parquet(${sqlString(request.input.path)}, file_row_number = true)`;
  const options = copyOptions(request.outFormat);
  try {
    await loadQuarantine(connection, request.quarantine, table);
    const clean = await connection.run(
      `COPY (SELECT * EXCLUDE (file_row_number) FROM ${file} ANTI JOIN ${table} q ON file_row_number = q.r ` +
        `ORDER BY file_row_number) TO ${sqlString(request.cleanPath)} ${options}`,
    );
    const held = await connection.run(
      `COPY (SELECT t.* EXCLUDE (file_row_number), t.file_row_number AS ${ROW_COLUMN}, s.reasons AS ${REASONS_COLUMN} ` +
        `FROM ${file} t JOIN ${table} q ON t.file_row_number = q.r JOIN ${table}_sets s ON q.s = s.s ` +
        `ORDER BY t.file_row_number) TO ${sqlString(request.quarantinePath)} ${options}`,
    );
    return { cleanRows: clean.rowsChanged, quarantineRows: held.rowsChanged };
  } catch (error) {
    throw new InputError(`cannot write outputs: ${duckdbMessage(error)}`, { subject: request.input.path, cause: error });
  } finally {
    await connection.run(`DROP TABLE IF EXISTS ${table}; DROP TABLE IF EXISTS ${table}_sets`).catch(() => undefined);
    connection.closeSync();
  }
}

/** Copies the given rows of a column into a new column. */
export function gatherColumn(column: Column, rows: Int32Array, count: number): Column {
  const pick = <T extends { [i: number]: unknown }>(source: T, target: T): T => {
    for (let k = 0; k < count; k++) target[k] = source[rows[k]!];
    return target;
  };
  const valid = column.valid === null ? null : pick(column.valid, new Uint8Array(count));
  const bad = column.bad === null ? null : pick(column.bad, new Uint8Array(count));
  if (column.type === 'string') return { ...column, valid, bad, values: pick(column.values, new Array<string>(count)) };
  if (column.type === 'bool') return { ...column, valid, bad, values: pick(column.values, new Uint8Array(count)) };
  return { ...column, valid, bad, values: pick(column.values, new Float64Array(count)) };
}

function cleanColumnsOf(input: InputShape, crossFormat: boolean, contract?: Contract): OutputColumn[] {
  return input.columns.map((column) => {
    const declared = crossFormat ? contract?.columns.find((c) => c.name === column.name) : undefined;
    return declared
      ? { name: column.name, type: declared.type, sourceType: declared.type }
      : { name: column.name, type: column.type ?? 'string', sourceType: column.sourceType };
  });
}

async function routeByStreaming(request: RouteRequest): Promise<RouteResult> {
  const { input, quarantine } = request;
  // Same format: write the rows as they were read. Another format: clean rows take the
  // contract's types (they all parsed); quarantined rows keep the text as it was.
  const crossFormat = input.format !== request.outFormat && request.contract !== undefined;
  const rawColumns: OutputColumn[] = input.columns.map((c) => ({ name: c.name, type: c.type ?? 'string', sourceType: c.sourceType }));
  const quarantineColumns: OutputColumn[] = [
    ...rawColumns,
    { name: ROW_COLUMN, type: 'int', sourceType: 'BIGINT' },
    { name: REASONS_COLUMN, type: 'string', sourceType: 'VARCHAR' },
  ];
  const source = await openSource(input.path, 'raw');
  const cleanWriter = await openWriter(request.cleanPath, request.outFormat, cleanColumnsOf(input, crossFormat, request.contract));
  const quarantineWriter = await openWriter(request.quarantinePath, request.outFormat, quarantineColumns);
  let next = 0; // the next quarantine entry to place
  let cleanRows = 0;
  let quarantineRows = 0;
  try {
    for await (const batch of source.batches()) {
      const end = batch.rowOffset + batch.rowCount;
      const held = new Int32Array(batch.rowCount);
      const heldRow = new Float64Array(batch.rowCount);
      const heldReasons: string[] = [];
      const kept = new Int32Array(batch.rowCount);
      let heldCount = 0;
      let keptCount = 0;
      for (let row = batch.rowOffset; row < end; row++) {
        if (next < quarantine.length && quarantine.rows[next] === row) {
          held[heldCount] = row - batch.rowOffset;
          heldRow[heldCount] = row;
          heldReasons.push(quarantine.reasonsOf(next));
          heldCount++;
          next++;
        } else {
          kept[keptCount++] = row - batch.rowOffset;
        }
      }
      if (keptCount > 0) {
        const cleanSource = crossFormat ? applyContractTypes(batch, request.contract!) : batch;
        await cleanWriter.write(gatherBatch(cleanSource, kept, keptCount));
      }
      if (heldCount > 0) {
        const columns = batch.columns.map((c) => gatherColumn(c, held, heldCount));
        columns.push(
          { name: ROW_COLUMN, type: 'int', sourceType: 'BIGINT', values: heldRow.subarray(0, heldCount), valid: null, bad: null },
          { name: REASONS_COLUMN, type: 'string', sourceType: 'VARCHAR', values: heldReasons, valid: null, bad: null },
        );
        await quarantineWriter.write(makeBatch(batch.rowOffset, heldCount, columns));
      }
      cleanRows += keptCount;
      quarantineRows += heldCount;
    }
    await cleanWriter.close();
    await quarantineWriter.close();
    return { cleanRows, quarantineRows };
  } catch (error) {
    await cleanWriter.abort();
    await quarantineWriter.abort();
    throw error;
  } finally {
    await source.close();
  }
}

function gatherBatch(batch: Batch, rows: Int32Array, count: number): Batch {
  if (count === batch.rowCount) return batch;
  return makeBatch(batch.rowOffset, count, batch.columns.map((c) => gatherColumn(c, rows, count)));
}
