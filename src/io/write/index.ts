// Opens the writer for an output format.
import type { Format } from '../formats.js';
import { openCsvWriter } from './csv.js';
import { openJsonlWriter } from './jsonl.js';
import { openParquetWriter } from './parquet.js';
import type { OutputColumn, TableWriter } from './writer.js';

export type { OutputColumn, TableWriter } from './writer.js';
export { outputColumnsOf } from './writer.js';

export async function openWriter(path: string, format: Format, columns: readonly OutputColumn[]): Promise<TableWriter> {
  switch (format) {
    case 'csv': return openCsvWriter(path, columns);
    case 'jsonl': return openJsonlWriter(path, columns);
    // apache-arrow takes about 100 ms to load: only a scan that writes Arrow loads it.
    case 'arrow': return (await import('./arrow.js')).openArrowWriter(path, columns, false);
    case 'arrows': return (await import('./arrow.js')).openArrowWriter(path, columns, true);
    case 'parquet': return openParquetWriter(path, columns);
  }
}
