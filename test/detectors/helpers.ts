// Small column and batch builders for the detector tests.
import { makeBatch, type Batch, type Column, type NumericColumn, type StringColumn, type BoolColumn } from '../../src/core/types.js';

function validity(values: readonly unknown[]): Uint8Array | null {
  if (values.every((v) => v !== null)) return null;
  return Uint8Array.from(values, (v) => (v === null ? 0 : 1));
}

export function numeric(name: string, values: readonly (number | null)[], type: 'int' | 'float' | 'timestamp' = 'float'): NumericColumn {
  return { name, type, sourceType: 'test', values: Float64Array.from(values, (v) => v ?? 0), valid: validity(values), bad: null };
}

export function strings(name: string, values: readonly (string | null)[]): StringColumn {
  return { name, type: 'string', sourceType: 'test', values: values.map((v) => v ?? ''), valid: validity(values), bad: null };
}

export function bools(name: string, values: readonly (boolean | null)[]): BoolColumn {
  return { name, type: 'bool', sourceType: 'test', values: Uint8Array.from(values, (v) => (v ? 1 : 0)), valid: validity(values), bad: null };
}

export function batch(columns: Column[], rowOffset = 0): Batch {
  return makeBatch(rowOffset, columns[0]?.values.length ?? 0, columns);
}

/** Rows [start, end) of a batch as a new batch (for feeding a dataset in pieces). */
export function sliceBatch(source: Batch, start: number, end: number): Batch {
  const columns = source.columns.map((c): Column => {
    const valid = c.valid === null ? null : c.valid.slice(start, end);
    const bad = c.bad === null ? null : c.bad.slice(start, end);
    if (c.type === 'string') return { ...c, values: c.values.slice(start, end), valid, bad };
    if (c.type === 'bool') return { ...c, values: c.values.slice(start, end), valid, bad };
    return { ...c, values: c.values.slice(start, end), valid, bad };
  });
  return makeBatch(source.rowOffset + start, end - start, columns);
}

/** Indices i where predicate(values[i]) holds. */
export function indicesWhere(values: ArrayLike<number>, predicate: (v: number) => boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) if (predicate(values[i]!)) out.push(i);
  return out;
}
