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
      let text = '';
      for (let row = 0; row < batch.rowCount; row++) {
        let line = '{';
        for (let c = 0; c < cols.length; c++) line += (c === 0 ? '' : ',') + keys[c] + cellJson(cols[c]!, row);
        text += `${line}}\n`;
      }
      if (text) await writeChunk(stream, text);
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
