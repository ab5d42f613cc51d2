// Parquet through DuckDB: rows are appended to a temporary table (which spills to disk when
// large) and copied out with COPY ... (FORMAT parquet) when the writer closes.
import { DuckDBTimestampValue, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import type { Batch, Column } from '../../core/types.js';
import { connect, sqlIdentifier, sqlString } from '../duckdb.js';
import type { OutputColumn, TableWriter } from './writer.js';
import { removeQuietly } from './streams.js';

const NARROW_INTEGERS = /^(TINYINT|SMALLINT|INTEGER|UTINYINT|USMALLINT|Int8|Int16|Int32|Uint8|Uint16)$/;
const SINGLE_FLOATS = /^(FLOAT|Float32)$/;

export function duckdbTypeOf(column: OutputColumn): string {
  switch (column.type) {
    case 'int': return NARROW_INTEGERS.test(column.sourceType) ? 'INTEGER' : 'BIGINT';
    case 'float': return SINGLE_FLOATS.test(column.sourceType) ? 'FLOAT' : 'DOUBLE';
    case 'bool': return 'BOOLEAN';
    case 'timestamp': return 'TIMESTAMP';
    default: return 'VARCHAR';
  }
}

let tableCounter = 0;

type Append = (appender: DuckDBAppender, column: Column, row: number) => void;

function appendFor(sqlType: string): Append {
  switch (sqlType) {
    case 'INTEGER': return (a, c, r) => a.appendInteger(c.values[r] as number);
    case 'BIGINT': return (a, c, r) => a.appendBigInt(BigInt(c.values[r] as number));
    case 'FLOAT': return (a, c, r) => a.appendFloat(c.values[r] as number);
    case 'DOUBLE': return (a, c, r) => a.appendDouble(c.values[r] as number);
    case 'BOOLEAN': return (a, c, r) => a.appendBoolean(c.values[r] === 1);
    case 'TIMESTAMP': return (a, c, r) => a.appendTimestamp(new DuckDBTimestampValue(BigInt(Math.round(c.values[r] as number))));
    default: return (a, c, r) => a.appendVarchar(c.values[r] as string);
  }
}

export async function openParquetWriter(path: string, columns: readonly OutputColumn[]): Promise<TableWriter> {
  const connection: DuckDBConnection = await connect();
  const table = `datawarden_out_${process.pid}_${++tableCounter}`;
  const sqlTypes = columns.map(duckdbTypeOf);
  await connection.run(
    `CREATE TABLE ${table} (${columns.map((c, i) => `${sqlIdentifier(c.name)} ${sqlTypes[i]}`).join(', ')})`,
  );
  const appender = await connection.createAppender(table);
  const appends = sqlTypes.map(appendFor);
  const cleanup = async () => {
    await connection.run(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    connection.closeSync();
  };
  return {
    async write(batch: Batch) {
      const cols = batch.columns;
      for (let row = 0; row < batch.rowCount; row++) {
        for (let c = 0; c < cols.length; c++) {
          const column = cols[c]!;
          if (column.valid !== null && column.valid[row] === 0) appender.appendNull();
          else appends[c]!(appender, column, row);
        }
        appender.endRow();
      }
    },
    async close() {
      try {
        appender.closeSync();
        await connection.run(`COPY ${table} TO ${sqlString(path)} (FORMAT parquet)`);
      } finally {
        await cleanup();
      }
    },
    async abort() {
      try {
        appender.closeSync();
      } catch {
        // already closed
      }
      await cleanup();
      await removeQuietly(path);
    },
  };
}
