// Shared fixtures for the provenance tests: temporary directories, batches and a RowFlags recorder.
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CheckContext, RowFlags } from '../../src/core/check.js';
import type { Contract } from '../../src/core/contract.js';
import { makeBatch, type Batch, type Column } from '../../src/core/types.js';

/** A fresh directory removed when the test process exits (node:test `after` inside a hook runs too early). */
const tempDirs: string[] = [];
process.once('exit', () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'datawarden-provenance-'));
  tempDirs.push(dir);
  return dir;
}

/** A column from plain values; null makes a row invalid. */
export function column(name: string, type: Column['type'], values: ReadonlyArray<number | string | boolean | null>): Column {
  const valid = values.some((v) => v === null) ? Uint8Array.from(values, (v) => (v === null ? 0 : 1)) : null;
  const base = { name, sourceType: 'test', valid, bad: null };
  if (type === 'string') return { ...base, type, values: values.map((v) => (v === null ? '' : String(v))) };
  if (type === 'bool') return { ...base, type, values: Uint8Array.from(values, (v) => (v === true ? 1 : 0)) };
  return { ...base, type, values: Float64Array.from(values, (v) => (v === null ? 0 : Number(v))) };
}

export function batch(columns: Column[], rowOffset = 0): Batch {
  return makeBatch(rowOffset, columns[0]?.type === undefined ? 0 : columnLength(columns[0]), columns);
}

function columnLength(c: Column): number {
  return c.values.length;
}

/** Records flags as `row:code` strings. */
export class FlagRecorder implements RowFlags {
  readonly codes: string[] = [];
  readonly flagged: string[] = [];
  reason(code: string): number {
    const known = this.codes.indexOf(code);
    if (known !== -1) return known;
    this.codes.push(code);
    return this.codes.length - 1;
  }
  flag(row: number, reasonId: number): void {
    this.flagged.push(`${row}:${this.codes[reasonId]}`);
  }
}

export function checkContext(contract: Contract, columns: readonly string[] = contract.columns.map((c) => c.name)): CheckContext {
  return {
    contract,
    seed: 42,
    input: { path: 'test.csv', format: 'csv', declaredRows: null, columns: columns.map((name) => ({ name, type: 'string', sourceType: 'test' })) },
  };
}
