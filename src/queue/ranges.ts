// How a dataset job splits its input into range jobs. Parquet files are split on row-group
// boundaries and Arrow IPC files on record-batch boundaries (a reader skips the groups or batches
// outside a range, so each range job reads only its own rows), grouped to about `targetRows` per
// range. CSV, JSON Lines and Arrow IPC streams stay one range: their readers reach row N only by
// reading rows 0..N-1, so splitting them would multiply reads.
import { InputError } from '../core/errors.js';
import { connect, sqlString } from '../io/duckdb.js';
import { formatOf } from '../io/formats.js';
import type { RowRange } from '../io/source.js';
import { arrowFileBatchRows } from '../io/arrow-source.js';

/** Row counts of a Parquet file's row groups, in file order. */
export async function parquetRowGroups(path: string): Promise<number[]> {
  const connection = await connect();
  try {
    const rows = await connection.rows(
      `SELECT row_group_id, max(row_group_num_rows) FROM parquet_metadata(${sqlString(path)}) ` +
        'GROUP BY row_group_id ORDER BY row_group_id',
    );
    return rows.map((row) => Number(row[1]));
  } catch (error) {
    throw new InputError(`cannot read Parquet metadata: ${(error as Error).message.split('\n', 1)[0]}`, { subject: path, cause: error });
  } finally {
    connection.closeSync();
  }
}

/**
 * Consecutive groups joined into ranges whose sizes come closest to `targetRows`: a group joins
 * the current range when that brings the range nearer the target than closing it would.
 */
export function groupRanges(groupRows: readonly number[], targetRows: number): RowRange[] {
  const ranges: RowRange[] = [];
  let start = 0;
  let size = 0;
  for (const rows of groupRows) {
    if (size > 0 && Math.abs(size + rows - targetRows) > Math.abs(size - targetRows)) {
      ranges.push({ start, end: start + size });
      start += size;
      size = 0;
    }
    size += rows;
  }
  if (size > 0 || ranges.length === 0) ranges.push({ start, end: start + size });
  return ranges;
}

/** The ranges a dataset job fans out to; one range means the dataset job scans it itself. */
export async function planRanges(path: string, targetRows: number): Promise<RowRange[] | null> {
  const format = formatOf(path);
  if (format !== 'parquet' && format !== 'arrow') return null;
  const units = format === 'parquet' ? await parquetRowGroups(path) : await arrowFileBatchRows(path);
  const ranges = groupRanges(units, targetRows);
  return ranges.length > 1 ? ranges : null;
}
