// scores.<ext>: `_row`, `outlier_score`, `label_score` for every row checked, written batch by
// batch as detectors publish them (`scan --emit-scores`). A score a detector did not give (it
// was skipped, or the row has no label) is null.
import type { ScoreSink } from '../core/check.js';
import { makeBatch, makeColumn, type Batch, type Column } from '../core/types.js';
import type { Format } from '../io/formats.js';
import { openWriter, type TableWriter } from '../io/write/index.js';
import { ROW_COLUMN } from './outputs.js';

export const SCORE_COLUMNS = ['outlier_score', 'label_score'] as const;

export class ScoreWriter implements ScoreSink {
  private writer: TableWriter | undefined;
  /** Scores recorded per batch not yet written: a scan checks the next batch before it writes one. */
  private readonly pending = new Map<Batch, Map<string, Float64Array>>();

  constructor(private readonly path: string, private readonly format: Format) {}

  async open(): Promise<void> {
    this.writer = await openWriter(this.path, this.format, [
      { name: ROW_COLUMN, type: 'int', sourceType: 'BIGINT' },
      ...SCORE_COLUMNS.map((name) => ({ name, type: 'float' as const, sourceType: 'DOUBLE' })),
    ]);
  }

  record(name: string, batch: Batch, scores: Float64Array): void {
    if (scores.length !== batch.rowCount) throw new Error(`${name}: ${scores.length} scores for ${batch.rowCount} rows`);
    let recorded = this.pending.get(batch);
    if (recorded === undefined) this.pending.set(batch, (recorded = new Map()));
    recorded.set(name, scores.slice());
  }

  /** Writes the scores recorded for this batch. */
  async flush(batch: Batch): Promise<void> {
    const rows = Float64Array.from({ length: batch.rowCount }, (_, i) => batch.rowOffset + i);
    const columns: Column[] = [makeColumn(ROW_COLUMN, 'BIGINT', 'int', rows, null, null)];
    const recorded = this.pending.get(batch);
    this.pending.delete(batch);
    for (const name of SCORE_COLUMNS) {
      const values = recorded?.get(name) ?? new Float64Array(batch.rowCount).fill(Number.NaN);
      const valid = Uint8Array.from(values, (v) => (Number.isNaN(v) ? 0 : 1));
      columns.push(makeColumn(name, 'DOUBLE', 'float', values, valid.includes(0) ? valid : null, null));
    }
    await this.writer!.write(makeBatch(batch.rowOffset, batch.rowCount, columns));
  }

  async close(): Promise<void> {
    await this.writer!.close();
  }

  async abort(): Promise<void> {
    await this.writer?.abort();
  }
}
