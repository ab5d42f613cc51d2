// Routing: every input row goes to exactly one of the clean and quarantine files, batch by
// batch, in input order.
import type { InputShape } from '../core/check.js';
import type { Contract } from '../core/contract.js';
import { makeBatch, makeColumn, withRows, type Batch, type Column } from '../core/types.js';
import type { Format } from '../io/formats.js';
import { openWriter, type OutputColumn, type TableWriter } from '../io/write/index.js';
import type { Quarantine } from './findings.js';

export const ROW_COLUMN = '_row';
export const REASONS_COLUMN = '_reasons';

/**
 * The given rows (ascending) as runs of consecutive rows: starts[i] for lengths[i] rows. A batch
 * keeps most of its rows, so the runs are long and typed arrays are copied run by run.
 */
function runsOf(rows: Int32Array, count: number): { starts: Int32Array; lengths: Int32Array; runs: number } {
  const starts = new Int32Array(count);
  const lengths = new Int32Array(count);
  let runs = 0;
  for (let k = 0; k < count; k++) {
    const row = rows[k]!;
    if (runs > 0 && starts[runs - 1]! + lengths[runs - 1]! === row) lengths[runs - 1]!++;
    else {
      starts[runs] = row;
      lengths[runs++] = 1;
    }
  }
  return { starts, lengths, runs };
}

type Runs = ReturnType<typeof runsOf>;

interface TypedRows<T> {
  subarray(start: number, end: number): T;
  set(source: T, offset: number): void;
}

function gatherTyped<T extends TypedRows<T>>(source: T, target: T, { starts, lengths, runs }: Runs): T {
  let at = 0;
  for (let i = 0; i < runs; i++) {
    const start = starts[i]!;
    target.set(source.subarray(start, start + lengths[i]!), at);
    at += lengths[i]!;
  }
  return target;
}

function gatherStrings(source: readonly string[], rows: Int32Array, count: number): string[] {
  const target = new Array<string>(count);
  for (let k = 0; k < count; k++) target[k] = source[rows[k]!]!;
  return target;
}

/** Copies the given rows (ascending) of a column into a new column. */
export function gatherColumn(column: Column, rows: Int32Array, count: number, runs: Runs = runsOf(rows, count)): Column {
  const valid = column.valid === null ? null : gatherTyped(column.valid, new Uint8Array(count), runs);
  const bad = column.bad === null ? null : gatherTyped(column.bad, new Uint8Array(count), runs);
  if (column.type === 'string') return withRows(column, gatherStrings(column.values, rows, count), valid, bad);
  if (column.type === 'bool') return withRows(column, gatherTyped(column.values, new Uint8Array(count), runs), valid, bad);
  const exact = column.exact ? gatherTyped(column.exact, new BigInt64Array(count), runs) : null;
  return withRows(column, gatherTyped(column.values, new Float64Array(count), runs), valid, bad, exact);
}

function cleanColumnsOf(input: InputShape, crossFormat: boolean, contract?: Contract): OutputColumn[] {
  return input.columns.map((column) => {
    const declared = crossFormat ? contract?.columns.find((c) => c.name === column.name) : undefined;
    return declared
      ? { name: column.name, type: declared.type, sourceType: declared.type }
      : { name: column.name, type: column.type ?? 'string', sourceType: column.sourceType };
  });
}

export interface RouterOptions {
  readonly input: InputShape;
  readonly outFormat: Format;
  readonly cleanPath: string;
  readonly quarantinePath: string;
  /** Applied to clean rows written in another format than the input's, so they carry the contract's types. */
  readonly contract?: Contract;
}

/**
 * Sends each batch's rows to the clean or the quarantine writer as soon as the batch is
 * checked, so a scan reads its input once and holds one batch at a time. Same format: rows are
 * written as read. Another format: clean rows take the contract's types (they all parsed);
 * quarantined rows keep the text as it was.
 */
export class RowRouter {
  cleanRows = 0;
  quarantineRows = 0;
  private cleanWriter: TableWriter | undefined;
  private quarantineWriter: TableWriter | undefined;
  private readonly crossFormat: boolean;

  constructor(private readonly options: RouterOptions) {
    this.crossFormat = options.input.format !== options.outFormat && options.contract !== undefined;
  }

  async open(): Promise<void> {
    const { input, outFormat, contract } = this.options;
    const rawColumns: OutputColumn[] = input.columns.map((c) => ({ name: c.name, type: c.type ?? 'string', sourceType: c.sourceType }));
    this.cleanWriter = await openWriter(this.options.cleanPath, outFormat, cleanColumnsOf(input, this.crossFormat, contract));
    this.quarantineWriter = await openWriter(this.options.quarantinePath, outFormat, [
      ...rawColumns,
      { name: ROW_COLUMN, type: 'int', sourceType: 'BIGINT' },
      { name: REASONS_COLUMN, type: 'string', sourceType: 'VARCHAR' },
    ]);
  }

  /**
   * Routes one batch. `quarantine` entries [from, to) are this batch's quarantined rows, in
   * row order.
   */
  async route(raw: Batch, typed: Batch, quarantine: Quarantine, from: number, to = quarantine.length): Promise<void> {
    const heldCount = to - from;
    const keptCount = raw.rowCount - heldCount;
    if (keptCount > 0) {
      const source = this.crossFormat ? typed : raw;
      if (heldCount === 0) {
        await this.cleanWriter!.write(source);
      } else {
        const kept = new Int32Array(keptCount);
        let next = from;
        let k = 0;
        for (let row = 0; row < raw.rowCount; row++) {
          if (next < to && quarantine.rows[next] === raw.rowOffset + row) next++;
          else kept[k++] = row;
        }
        await this.cleanWriter!.write(gatherBatch(source, kept, keptCount));
      }
    }
    if (heldCount > 0) {
      const held = new Int32Array(heldCount);
      const heldRow = new Float64Array(heldCount);
      const heldReasons = new Array<string>(heldCount);
      for (let k = 0; k < heldCount; k++) {
        heldRow[k] = quarantine.rows[from + k]!;
        held[k] = heldRow[k]! - raw.rowOffset;
        heldReasons[k] = quarantine.reasonsOf(from + k);
      }
      const runs = runsOf(held, heldCount);
      const columns = raw.columns.map((c) => gatherColumn(c, held, heldCount, runs));
      columns.push(
        makeColumn(ROW_COLUMN, 'BIGINT', 'int', heldRow, null, null),
        makeColumn(REASONS_COLUMN, 'VARCHAR', 'string', heldReasons, null, null),
      );
      await this.quarantineWriter!.write(makeBatch(raw.rowOffset, heldCount, columns));
    }
    this.cleanRows += keptCount;
    this.quarantineRows += heldCount;
  }

  async close(): Promise<void> {
    await this.cleanWriter!.close();
    await this.quarantineWriter!.close();
  }

  async abort(): Promise<void> {
    await this.cleanWriter?.abort();
    await this.quarantineWriter?.abort();
  }
}

function gatherBatch(batch: Batch, rows: Int32Array, count: number): Batch {
  const runs = runsOf(rows, count);
  return makeBatch(batch.rowOffset, count, batch.columns.map((c) => gatherColumn(c, rows, count, runs)));
}
