// Parquet writer throughput: the TypeScript writer against DuckDB's COPY ... (FORMAT parquet)
// on the same seeded rows (10 float64, 2 int32, 1 low-cardinality string, 1 int label),
// written as a stream of 65536-row batches. Prints the median wall and CPU time of each, and
// the bytes written.
//
//   npx tsx bench/parquet-writer.bench.ts [--rows 1000000 --repeats 3 --seed 42 --dir /tmp]
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { makeBatch, type Batch, type Column } from '../src/core/types.js';
import { openParquetWriter, type ParquetWriterOptions } from '../src/io/write/parquet.js';
import type { OutputColumn } from '../src/io/write/writer.js';
import { machineDescription } from './lib/machine.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    repeats: { type: 'string', default: '3' },
    seed: { type: 'string', default: '42' },
    'batch-rows': { type: 'string', default: '65536' },
    // Where the files go; a tmpfs such as /dev/shm takes the disk out of the figures.
    dir: { type: 'string', default: tmpdir() },
  },
});
const ROWS = Number(args.rows);
const REPEATS = Number(args.repeats);
const BATCH_ROWS = Number(args['batch-rows']);
const WORK = join(args.dir, `datawarden-parquet-bench-${process.pid}`);

const COLUMNS: OutputColumn[] = [
  ...Array.from({ length: 10 }, (_, k) => ({ name: `f${k}`, type: 'float' as const, sourceType: 'DOUBLE' })),
  { name: 'i0', type: 'int', sourceType: 'INTEGER' },
  { name: 'i1', type: 'int', sourceType: 'INTEGER' },
  { name: 'category', type: 'string', sourceType: 'VARCHAR' },
  { name: 'label', type: 'int', sourceType: 'INTEGER' },
];
const CATEGORIES = ['north', 'south', 'east', 'west', 'central'];

/** mulberry32: small, fast and seedable. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generate(rows: number, seed: number): Batch[] {
  const next = random(seed);
  const batches: Batch[] = [];
  for (let offset = 0; offset < rows; offset += BATCH_ROWS) {
    const n = Math.min(BATCH_ROWS, rows - offset);
    const numeric = (fill: (i: number) => number): Float64Array => Float64Array.from({ length: n }, (_, i) => fill(i));
    const columns: Column[] = [];
    for (let k = 0; k < 10; k++) {
      columns.push({ name: `f${k}`, type: 'float', sourceType: 'DOUBLE', values: numeric(() => next() * 100 * (k + 1)), valid: null, bad: null });
    }
    columns.push({ name: 'i0', type: 'int', sourceType: 'INTEGER', values: numeric(() => Math.floor(next() * 100000)), valid: null, bad: null });
    columns.push({ name: 'i1', type: 'int', sourceType: 'INTEGER', values: numeric(() => Math.floor(next() * 90)), valid: null, bad: null });
    const category = Array.from({ length: n }, () => CATEGORIES[Math.floor(next() * 5)]!);
    columns.push({ name: 'category', type: 'string', sourceType: 'VARCHAR', values: category, valid: null, bad: null });
    columns.push({ name: 'label', type: 'int', sourceType: 'INTEGER', values: numeric(() => (next() < 0.3 ? 1 : 0)), valid: null, bad: null });
    batches.push(makeBatch(offset, n, columns));
  }
  return batches;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

interface Timing {
  readonly ms: number;
  /** CPU time of the whole process (every thread) over the same span. */
  readonly cpuMs: number;
}

async function timed(run: () => Promise<void>): Promise<Timing> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await run();
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { ms, cpuMs: (used.user + used.system) / 1000 };
}

async function writeOurs(batches: readonly Batch[], path: string, options: ParquetWriterOptions): Promise<void> {
  const writer = await openParquetWriter(path, COLUMNS, options);
  for (const batch of batches) await writer.write(batch);
  await writer.close();
}

interface Variant {
  readonly name: string;
  readonly path: string;
  readonly run: () => Promise<void>;
  readonly timings: Timing[];
}

function report(variant: Variant): void {
  const ms = median(variant.timings.map((t) => t.ms));
  const cpuMs = median(variant.timings.map((t) => t.cpuMs));
  const rowsPerSecond = ROWS / (ms / 1000);
  console.log(
    `${variant.name.padEnd(34)} median ${ms.toFixed(0).padStart(5)} ms  cpu ${cpuMs.toFixed(0).padStart(5)} ms  ` +
    `(${variant.timings.map((t) => t.ms.toFixed(0)).join(', ')})  ${(rowsPerSecond / 1e6).toFixed(2)} M rows/s  ` +
    `${(statSync(variant.path).size / 1e6).toFixed(1)} MB`,
  );
}

async function main(): Promise<void> {
  mkdirSync(WORK, { recursive: true });
  try {
    console.log(machineDescription());
    console.log(`${ROWS} rows x ${COLUMNS.length} columns in batches of ${BATCH_ROWS}, seed ${args.seed}, median of ${REPEATS}, files in ${args.dir}`);
    const batches = generate(ROWS, Number(args.seed));

    // One untimed pass warms the JIT; its uncompressed output also loads DuckDB's table.
    const loadPath = join(WORK, 'load.parquet');
    await writeOurs(batches, loadPath, { compression: 'uncompressed' });
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    await db.run(`CREATE TABLE bench AS SELECT * FROM read_parquet('${loadPath}')`);

    const ours = (name: string, file: string, options: ParquetWriterOptions): Variant => {
      const path = join(WORK, file);
      return { name, path, timings: [], run: () => writeOurs(batches, path, options) };
    };
    const duckPath = join(WORK, 'duckdb.parquet');
    const variants: Variant[] = [
      ours('datawarden (snappy where it pays)', 'ours.parquet', {}),
      ours('datawarden (snappy on every chunk)', 'ours-forced.parquet', { alwaysCompress: true }),
      ours('datawarden (uncompressed)', 'ours-plain.parquet', { compression: 'uncompressed' }),
      { name: 'DuckDB COPY (snappy)', path: duckPath, timings: [], run: async () => { await db.run(`COPY bench TO '${duckPath}' (FORMAT parquet)`); } },
    ];
    // Round-robin, starting one further each round, so bursts of load from elsewhere and the
    // disk flushing what the previous variant wrote hit every variant alike.
    for (let r = 0; r < REPEATS; r++) {
      for (let k = 0; k < variants.length; k++) {
        const variant = variants[(r + k) % variants.length]!;
        rmSync(variant.path, { force: true });
        variant.timings.push(await timed(variant.run));
      }
    }

    // Every file written must hold exactly the table's rows.
    let differing = 0;
    for (const variant of variants) {
      const check = await db.runAndReadAll(
        `SELECT (SELECT count(*) FROM read_parquet('${variant.path}'))::INTEGER AS rows,
                (SELECT count(*) FROM (SELECT * FROM read_parquet('${variant.path}') EXCEPT ALL SELECT * FROM bench))::INTEGER AS extra`,
      );
      const { rows, extra } = check.getRowObjectsJson()[0]!;
      if (Number(rows) !== ROWS || Number(extra) !== 0) differing++;
    }
    db.closeSync();

    for (const variant of variants) report(variant);
    console.log(differing === 0 ? 'every file holds exactly the generated rows' : `MISMATCH in ${differing} file(s)`);
    if (differing !== 0) process.exitCode = 1;
  } finally {
    rmSync(WORK, { recursive: true, force: true });
  }
}

await main();
