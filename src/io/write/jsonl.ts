// JSON Lines: one object a row, keys in column order.
import { createWriteStream } from 'node:fs';
import type { Batch } from '../../core/types.js';
import { cellJson, type OutputColumn, type TableWriter } from './writer.js';
import { endStream, removeQuietly, writeChunk } from './streams.js';

export function openJsonlWriter(path: string, columns: readonly OutputColumn[]): TableWriter {
  const stream = createWriteStream(path);
  const keys = columns.map((c) => `${JSON.stringify(c.name)}:`);
  return {
    async write(batch: Batch) {
      const cols = batch.columns;
      // Fields and lines joined once: adding them one by one builds a rope of every piece.
      const fields = new Array<string>(cols.length);
      const lines: string[] = [];
      for (let row = 0; row < batch.rowCount; row++) {
        for (let c = 0; c < cols.length; c++) fields[c] = keys[c] + cellJson(cols[c]!, row);
        lines.push(`{${fields.join(',')}}\n`);
      }
      if (lines.length > 0) await writeChunk(stream, lines.join(''));
    },
    async close() {
      await endStream(stream);
    },
    async abort() {
      stream.destroy();
      await removeQuietly(path);
    },
  };
}
