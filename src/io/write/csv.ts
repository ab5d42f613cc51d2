// CSV with a header row (RFC 4180 quoting); nulls are empty fields.
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Batch } from '../../core/types.js';
import { cellText, type OutputColumn, type TableWriter } from './writer.js';
import { endStream, removeQuietly, writeChunk } from './streams.js';

const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

export function csvField(text: string): string {
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function openCsvWriter(path: string, columns: readonly OutputColumn[]): TableWriter {
  const stream: WriteStream = createWriteStream(path);
  let header = `${columns.map((c) => csvField(c.name)).join(',')}\n`;
  return {
    async write(batch: Batch) {
      const lines: string[] = [];
      const cols = batch.columns;
      const fields = new Array<string>(cols.length);
      for (let row = 0; row < batch.rowCount; row++) {
        for (let c = 0; c < cols.length; c++) {
          const text = cellText(cols[c]!, row);
          // An empty string must be told apart from a null: quote it.
          fields[c] = text === null ? '' : text === '' ? '""' : csvField(text);
        }
        lines.push(fields.join(','));
      }
      await writeChunk(stream, header + (lines.length ? `${lines.join('\n')}\n` : ''));
      header = '';
    },
    async close() {
      if (header) await writeChunk(stream, header);
      await endStream(stream);
    },
    async abort() {
      stream.destroy();
      await removeQuietly(path);
    },
  };
}
