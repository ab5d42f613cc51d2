// Reads a whole file through a Source into plain rows, for tests.
import { openSource, type ReadMode } from '../../src/io/source.js';
import type { InputColumn } from '../../src/core/check.js';

export interface ReadResult {
  readonly columns: readonly InputColumn[];
  readonly engine: string;
  readonly declaredRows: number | null;
  /** Column-major values; null for nulls. */
  readonly values: Record<string, unknown[]>;
  readonly rows: number;
}

export async function readAll(path: string, mode: ReadMode = 'typed'): Promise<ReadResult> {
  const source = await openSource(path, mode);
  const values: Record<string, unknown[]> = Object.fromEntries(source.shape.columns.map((c) => [c.name, []]));
  let rows = 0;
  try {
    for await (const batch of source.batches()) {
      for (const column of batch.columns) {
        const out = values[column.name]!;
        for (let i = 0; i < batch.rowCount; i++) out.push(column.valid !== null && column.valid[i] === 0 ? null : column.values[i]);
      }
      rows += batch.rowCount;
    }
  } finally {
    await source.close();
  }
  return { columns: source.shape.columns, engine: source.engine, declaredRows: source.shape.declaredRows, values, rows };
}
