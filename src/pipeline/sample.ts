// A seeded reservoir sample of a dataset's rows (Vitter's algorithm R), kept column by column in
// typed arrays, for fitting detectors without holding the dataset.
import type { Contract } from '../core/contract.js';
import { makeBatch, makeColumn, type Batch, type Column } from '../core/types.js';
import { applyContractTypes } from '../contract/coerce.js';
import { openSource, type ReadMode } from '../io/source.js';

interface Slots {
  readonly column: Column;
  values: Float64Array | Uint8Array | string[];
  valid: Uint8Array;
  /** Over the whole dataset: cells read as the column's type, and cells that could not be. */
  readable: number;
  unreadable: number;
}

/** Of one column over the whole dataset, read against the contract. */
export interface CellCounts {
  /** Cells holding a value of the column's type. */
  readonly readable: number;
  /** Cells holding something that is not (text that does not parse, a value of another type). */
  readonly unreadable: number;
}

export interface SampleResult {
  /** The sampled rows, in input order. */
  readonly batch: Batch;
  /** Rows in the whole dataset. */
  readonly rows: number;
  /** The input row (0-based) of each sampled row, ascending. */
  readonly inputRows: Float64Array;
  /** Per column, over every row (not only the sample's). */
  readonly cells: ReadonlyMap<string, CellCounts>;
}

/**
 * Up to `size` rows, each row of the dataset equally likely, the same rows for the same seed.
 * With a contract, text formats are parsed against it and columns keep the contract's types.
 */
export async function sampleRows(
  path: string,
  size: number,
  random: () => number,
  contract?: Contract,
  mode: ReadMode = contract ? 'raw' : 'typed',
): Promise<SampleResult> {
  const source = await openSource(path, mode);
  let slots: Slots[] | undefined;
  const origin = new Float64Array(size); // input row held by each slot
  let seen = 0;
  try {
    for await (const raw of source.batches()) {
      const batch = contract ? applyContractTypes(raw, contract) : raw;
      slots ??= batch.columns.map((column) => ({
        column,
        values: column.type === 'string' ? new Array<string>(size).fill('') : column.type === 'bool' ? new Uint8Array(size) : new Float64Array(size),
        valid: new Uint8Array(size),
        readable: 0,
        unreadable: 0,
      }));
      batch.columns.forEach((column, c) => countCells(slots![c]!, column, batch.rowCount));
      for (let i = 0; i < batch.rowCount; i++, seen++) {
        const slot = seen < size ? seen : Math.floor(random() * (seen + 1));
        if (slot >= size) continue;
        origin[slot] = seen;
        batch.columns.forEach((column, c) => {
          const target = slots![c]!;
          const ok = column.valid === null || column.valid[i] === 1;
          target.valid[slot] = ok ? 1 : 0;
          (target.values as unknown[])[slot] = ok ? column.values[i] : target.values instanceof Array ? '' : 0;
        });
      }
    }
  } finally {
    await source.close();
  }
  const kept = Math.min(size, seen);
  // Input order makes the sample independent of which slot a row landed in.
  const order = Array.from({ length: kept }, (_, k) => k).sort((a, b) => origin[a]! - origin[b]!);
  const columns: Column[] = (slots ?? []).map(({ column, values, valid }) => {
    const pickedValid = Uint8Array.from(order, (k) => valid[k]!);
    const anyNull = pickedValid.includes(0);
    const picked =
      column.type === 'string' ? order.map((k) => (values as string[])[k]!)
      : column.type === 'bool' ? Uint8Array.from(order, (k) => (values as Uint8Array)[k]!)
      : Float64Array.from(order, (k) => (values as Float64Array)[k]!);
    return makeColumn(column.name, column.sourceType, column.type, picked, anyNull ? pickedValid : null, null);
  });
  return {
    batch: makeBatch(0, kept, columns),
    rows: seen,
    inputRows: Float64Array.from(order, (k) => origin[k]!),
    cells: new Map((slots ?? []).map(({ column, readable, unreadable }) => [column.name, { readable, unreadable }])),
  };
}

function countCells(slots: Slots, column: Column, rows: number): void {
  let readable = rows;
  if (column.valid !== null) for (let i = 0; i < rows; i++) readable -= column.valid[i] === 1 ? 0 : 1;
  let unreadable = 0;
  if (column.bad !== null) for (let i = 0; i < rows; i++) unreadable += column.bad[i]!;
  slots.readable += readable;
  slots.unreadable += unreadable;
}
