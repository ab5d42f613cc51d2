// The generated table the scan and queue benchmarks read: 10 float columns, 2 int columns, a
// 5-value string category and a 0/1 label, as Parquet with DuckDB's default row groups
// (122,880 rows), and the contract that bounds every column.
import { existsSync, writeFileSync } from 'node:fs';

/**
 * Writes `rows` rows to `path` unless it exists. Columns come from DuckDB's hash of the row
 * number, so the data depends on `seed` alone, not on threads. DuckDB is loaded here, on first
 * use, so that a benchmark's child processes load only what the CLI loads.
 */
export async function writeGeneratedTable(path: string, rows: number, seed: number): Promise<void> {
  if (existsSync(path)) return;
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const u = (k: number) => `((hash(range, ${seed * 100 + k}) % 1000000007)::DOUBLE / 1000000007)`;
  const floats = Array.from({ length: 10 }, (_, k) => `${u(k)} * ${100 * (k + 1)} AS f${k}`).join(', ');
  const db = await (await DuckDBInstance.create(':memory:')).connect();
  await db.run(`COPY (SELECT ${floats},
      (${u(10)} * 100000)::INTEGER AS i0, (${u(11)} * 90)::INTEGER AS i1,
      ['north', 'south', 'east', 'west', 'central'][(${u(12)} * 5)::INTEGER % 5 + 1] AS category,
      -- The label follows two features plus noise, so a label model has something to learn.
      ((${u(0)} + ${u(1)} + (${u(13)} - 0.5) * 0.4) > 1)::INTEGER AS label
    FROM range(${rows})) TO '${path}' (FORMAT parquet)`);
  db.closeSync();
}

/** Writes the generated table's contract: every column typed, non-null and bounded. */
export function writeGeneratedContract(path: string): void {
  const columns = [
    ...Array.from({ length: 10 }, (_, k) => ({ name: `f${k}`, type: 'float', nullable: false, min: 0, max: 100 * (k + 1) })),
    { name: 'i0', type: 'int', nullable: false, min: 0, max: 100000 },
    { name: 'i1', type: 'int', nullable: false, min: 0, max: 90 },
    { name: 'category', type: 'string', nullable: false, allowed: ['north', 'south', 'east', 'west', 'central'] },
    { name: 'label', type: 'int', nullable: false, allowed: [0, 1] },
  ];
  writeFileSync(path, JSON.stringify({ name: 'bench', label: 'label', gate: { pass: 0.01, warn: 0.05 }, columns }, null, 1));
}
