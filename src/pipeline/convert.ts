// convert: one format to another, streaming, with types kept. Between the formats DuckDB reads
// and writes, one COPY does it natively; Arrow on either side streams through our writers.
import { randomBytes } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import { InputError } from '../core/errors.js';
import { connect, sqlString } from '../io/duckdb.js';
import { duckdbMessage, relationSql } from '../io/duckdb-source.js';
import { formatOf, type Format } from '../io/formats.js';
import { assertRowCount, openSource } from '../io/source.js';
import { openWriter } from '../io/write/index.js';

const NATIVE = new Set<Format>(['parquet', 'csv', 'jsonl']);

export interface ConvertResult {
  readonly rows: number;
  readonly from: Format;
  readonly to: Format;
}

export async function convert(inputPath: string, outputPath: string, outFormat: Format = formatOf(outputPath)): Promise<ConvertResult> {
  // Opening checks the file, refuses nested columns and learns the declared row count.
  const source = await openSource(inputPath, 'typed');
  const temp = `${outputPath}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    let rows: number;
    if (source.engine === 'duckdb' && NATIVE.has(source.format) && NATIVE.has(outFormat)) {
      await source.close();
      rows = await copyNatively(inputPath, source.format, temp, outFormat);
      assertRowCount(inputPath, source.shape.declaredRows, rows);
    } else {
      rows = 0;
      const columns = source.shape.columns.map((c) => ({ name: c.name, type: c.type ?? 'string', sourceType: c.sourceType }));
      const out = await openWriter(temp, outFormat, columns);
      try {
        for await (const batch of source.batches()) {
          await out.write(batch);
          rows += batch.rowCount;
        }
        await out.close();
      } catch (error) {
        await out.abort();
        throw error;
      }
    }
    await rename(temp, outputPath);
    return { rows, from: source.format, to: outFormat };
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  } finally {
    await source.close();
  }
}

async function copyNatively(inputPath: string, from: Format, temp: string, to: Format): Promise<number> {
  const connection = await connect();
  try {
    return await connection.run(
      `COPY (SELECT * FROM ${relationSql(inputPath, from, 'typed')}) TO ${sqlString(temp)} ${copyOptions(to)}`,
    );
  } catch (error) {
    throw new InputError(`cannot convert: ${duckdbMessage(error)}`, { subject: inputPath, cause: error });
  } finally {
    connection.closeSync();
  }
}

function copyOptions(format: Format): string {
  switch (format) {
    case 'parquet': return '(FORMAT parquet)';
    case 'csv': return '(FORMAT csv, HEADER true)';
    // ISO-8601 with a T and a Z: the form JSON readers (DuckDB's own included) detect as a timestamp.
    case 'jsonl': return "(FORMAT json, TIMESTAMPFORMAT '%Y-%m-%dT%H:%M:%S.%fZ')";
    default: throw new Error(`DuckDB does not write ${format}`);
  }
}
