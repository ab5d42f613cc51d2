import { openSource } from './source.js';

/** Rows in a dataset, counted by reading it whole (so a damaged file fails here, not later). */
export async function countRows(path: string): Promise<number> {
  const source = await openSource(path, 'raw');
  let rows = 0;
  try {
    for await (const batch of source.batches()) rows += batch.rowCount;
  } finally {
    await source.close();
  }
  return rows;
}
