// Opens the writer for an output format.
import type { Format } from '../formats.js';
import { openArrowWriter } from './arrow.js';
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
    case 'arrow': return openArrowWriter(path, columns, false);
    case 'arrows': return openArrowWriter(path, columns, true);
    case 'parquet': return openParquetWriter(path, columns);
  }
}
