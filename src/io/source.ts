// A Source streams one input file as batches of typed columns. Parquet, CSV and JSON Lines are
// read through DuckDB; Arrow IPC through apache-arrow. Every source refuses nested columns,
// and checks at the end that it read as many rows as the file declares.
import { stat } from 'node:fs/promises';
import type { InputShape } from '../core/check.js';
import { InputError } from '../core/errors.js';
import type { Batch } from '../core/types.js';
import { formatOf, type Format } from './formats.js';

/**
 * `raw` reads text formats as text (CSV fields, JSON values as JSON text) so that the contract
 * decides how to parse them and a bad value becomes a finding, not an error. `typed` lets the
 * reader detect types (for infer and convert). Typed formats read the same either way.
 */
export type ReadMode = 'raw' | 'typed';

/** Rows [start, end) of the input. */
export interface RowRange {
  readonly start: number;
  readonly end: number;
}

export interface ReadOptions {
  /** Rows per batch (at least; a batch ends on a reader chunk boundary). */
  readonly batchRows?: number;
  /** Read only these rows; batches then start at `range.start`. */
  readonly range?: RowRange;
  /**
   * Column sets whose row hashes the reader computes as it reads, when it can (DuckDB does, on
   * its own threads); the batches then carry them in `rowHashes`. Hashes are equal for equal
   * values as read, and stable across ranges and runs of one reader.
   */
  readonly hashColumns?: readonly (readonly string[])[];
}

/** Which library reads the file. */
export type Engine = 'duckdb' | 'hyparquet' | 'arrow';

export interface Source {
  readonly path: string;
  readonly format: Format;
  readonly mode: ReadMode;
  readonly engine: Engine;
  readonly shape: InputShape;
  /**
   * Streams the input; throws InputError on a corrupt file or a short read. A batch's typed
   * arrays may be reused once two more batches have been read: code that keeps values longer
   * (a sample, a writer's queue) copies them.
   */
  batches(options?: ReadOptions): AsyncGenerator<Batch>;
  close(): Promise<void>;
}

export const DEFAULT_BATCH_ROWS = 65536;
/**
 * Text formats make a string of every cell, and strings that outlive a batch fill the old
 * generation: smaller batches keep a CSV scan's heap (and time) down.
 */
export const TEXT_BATCH_ROWS = 16384;

/** Cells in a text batch: TEXT_BATCH_ROWS rows of up to 16 columns, fewer rows when wider. */
const TEXT_BATCH_CELLS = TEXT_BATCH_ROWS * 16;

/** Rows a text batch holds for `columns` columns (at least 1,024). */
export function textBatchRows(columns: number): number {
  return Math.max(1024, Math.min(TEXT_BATCH_ROWS, Math.floor(TEXT_BATCH_CELLS / Math.max(1, columns))));
}

export async function openSource(path: string, mode: ReadMode = 'raw'): Promise<Source> {
  const format = formatOf(path);
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new InputError('no such file', { subject: path });
  }
  if (!info.isFile()) throw new InputError('not a regular file', { subject: path });
  if (format === 'arrow' || format === 'arrows') {
    const { openArrowSource } = await import('./arrow-source.js');
    return openArrowSource(path, format, mode);
  }
  const { openDuckDBSource, duckdbReadsParquet } = await import('./duckdb-source.js');
  if (format !== 'parquet') return openDuckDBSource(path, format, mode);
  // Loaded only for the files DuckDB cannot read (loading it costs a scan ~30 ms).
  const openHyparquetSource = async (file: string, readMode: ReadMode) => (await import('./hyparquet-source.js')).openHyparquetSource(file, readMode);
  if (!(await duckdbReadsParquet(path))) return openHyparquetSource(path, mode);
  try {
    return await openDuckDBSource(path, format, mode);
  } catch (duckdbError) {
    if (duckdbError instanceof InputError && duckdbError.message.includes('unsupported: nested column')) throw duckdbError;
    // DuckDB refuses some well-formed schemas (a MAP without values); the second reader either
    // reads the file, names the nested column, or fails too, and then DuckDB's words stand.
    try {
      return await openHyparquetSource(path, mode);
    } catch (fallbackError) {
      if (fallbackError instanceof InputError && fallbackError.message.includes('unsupported: nested column')) throw fallbackError;
      throw duckdbError;
    }
  }
}

/** The shared guard against silent partial reads (of a range: the rows the range holds). */
export function assertRowCount(path: string, declared: number | null, read: number, range?: RowRange): void {
  if (range && declared !== null) declared = Math.max(0, Math.min(range.end, declared) - range.start);
  if (declared !== null && declared !== read) {
    throw new InputError(`corrupt file: its metadata declares ${declared} rows but ${read} could be read`, { subject: path });
  }
}
