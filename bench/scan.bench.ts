// Scan throughput against the bare reader, on generated Parquet (10 float, 2 int, 1 string
// category, 1 label), each measurement in a fresh process so peak RSS is its own (the warm row:
// a process that has already run the same scan once).
//
//   npm run bench:scan [-- --rows 1000000 --big-rows 5000000 --csv-rows 250000 --repeats 5]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openSource } from '../src/io/source.js';
import { loadContract } from '../src/contract/load.js';
import { scan } from '../src/pipeline/scan.js';
import { fit, saveModel } from '../src/pipeline/fit.js';
import { convert } from '../src/pipeline/convert.js';
import { writeGeneratedContract, writeGeneratedTable } from './lib/generated-table.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    'big-rows': { type: 'string', default: '5000000' },
    'csv-rows': { type: 'string', default: '250000' },
    repeats: { type: 'string', default: '5' },
    seed: { type: 'string', default: '42' },
    child: { type: 'string' },
    input: { type: 'string' },
    contract: { type: 'string' },
    checks: { type: 'string' },
    model: { type: 'string' },
  },
});

const WORK = join(tmpdir(), 'datawarden-bench');

/**
 * DuckDB for making the bench data, loaded only by the parent: a child measures what the CLI
 * loads, and the CLI loads DuckDB with require(), without the lexing an ESM import of it costs.
 */
async function duckdb(): Promise<typeof import('@duckdb/node-api').DuckDBInstance> {
  return (await import('@duckdb/node-api')).DuckDBInstance;
}

async function scanOnce(): Promise<number> {
  const out = join(WORK, `out-${process.pid}`);
  const { report } = await scan({
    input: args.input!, contract: await loadContract(args.contract!), outDir: out,
    checks: args.checks ? args.checks.split(',') : undefined,
    modelPath: args.model,
  });
  rmSync(out, { recursive: true, force: true });
  return report.input.rows;
}

/**
 * One measurement in this process: prints {ms, cpuMs, rows, maxRssMb} as JSON (CPU time of every
 * thread of the process). `scan-warm` times a second scan after an untimed first one, as a
 * long-lived process (a queue worker) runs its later jobs: with the code loaded and compiled.
 */
async function child(kind: string): Promise<void> {
  if (kind === 'scan-warm') await scanOnce();
  const started = performance.now();
  const cpuAtStart = process.cpuUsage();
  let rows = 0;
  if (kind === 'reader') {
    const source = await openSource(args.input!, 'raw');
    for await (const batch of source.batches()) rows += batch.rowCount;
    await source.close();
  } else {
    rows = await scanOnce();
  }
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpuAtStart);
  process.stdout.write(JSON.stringify({ ms, cpuMs: (cpu.user + cpu.system) / 1000, rows, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
}

interface Measure { ms: number; cpuMs: number; rows: number; maxRssMb: number }

function measure(kind: string, input: string, contract: string, checks: string, model?: string): Measure {
  const extra = [...(checks ? ['--checks', checks] : []), ...(model ? ['--model', model] : [])];
  const result = spawnSync(process.execPath, [new URL(import.meta.url).pathname, '--child', kind, '--input', input, '--contract', contract, ...extra], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout) as Measure;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  mkdirSync(WORK, { recursive: true });
  const rows = Number(args.rows);
  const bigRows = Number(args['big-rows']);
  const repeats = Number(args.repeats);
  const seed = Number(args.seed);
  const small = join(WORK, `bench-${rows}-${seed}-v2.parquet`);
  const big = join(WORK, `bench-${bigRows}-${seed}-v2.parquet`);
  const contract = join(WORK, 'bench.contract.json');
  await writeGeneratedTable(small, rows, seed);
  await writeGeneratedTable(big, bigRows, seed);
  writeGeneratedContract(contract);

  // The same rows as an Arrow IPC file, to show that reading one holds a batch, not the file.
  const bigArrow = join(WORK, `bench-${bigRows}-${seed}-v2.arrow`);
  if (!existsSync(bigArrow)) await convert(big, bigArrow);

  // The first rows as CSV: text formats are read as text and parsed against the contract.
  const csvRows = Number(args['csv-rows']);
  const csv = join(WORK, `bench-${csvRows}-${seed}-v2.csv`);
  if (!existsSync(csv)) {
    const db = await (await (await duckdb()).create(':memory:')).connect();
    await db.run(`COPY (SELECT * FROM read_parquet('${small}') LIMIT ${csvRows}) TO '${csv}' (FORMAT csv, HEADER true)`);
    db.closeSync();
  }

  const model = join(WORK, `bench-${rows}-${seed}-v2.model.json`);
  if (!existsSync(model)) {
    const fitted = await fit({ dataset: small, contract: await loadContract(contract), seed });
    await saveModel(fitted, model);
  }
  // Every run takes turns with the others, round after round, so that a slow spell of the
  // machine falls on a run and on its reader alike.
  const runs: { kind: string; input: string; checks: string; modelPath?: string }[] = [
    { kind: 'reader', input: small, checks: '' },
    { kind: 'reader', input: big, checks: '' },
    { kind: 'reader', input: bigArrow, checks: '' },
    { kind: 'scan', input: small, checks: 'schema,range,duplicate' },
    { kind: 'scan', input: small, checks: 'schema,range' },
    { kind: 'scan', input: big, checks: 'schema,range' },
    { kind: 'scan', input: big, checks: 'schema,range,duplicate' },
    { kind: 'scan', input: small, checks: '', modelPath: model },
    { kind: 'scan-warm', input: small, checks: '', modelPath: model },
    { kind: 'reader', input: csv, checks: '' },
    { kind: 'scan', input: csv, checks: 'schema,range,duplicate' },
  ];
  const measured = runs.map(() => [] as Measure[]);
  for (let round = 0; round < repeats; round++) {
    runs.forEach((r, i) => measured[i]!.push(measure(r.kind, r.input, contract, r.checks, r.modelPath)));
  }
  const [reader, readerBig, readerArrow, full, rules, rulesBig, fullBig, detectors, detectorsWarm, readerCsv, fullCsv] = measured.map((ms) => ({
    ms: median(ms.map((r) => r.ms)),
    cpuMs: median(ms.map((r) => r.cpuMs)),
    maxRssMb: median(ms.map((r) => r.maxRssMb)),
    rows: ms[0]!.rows,
  })) as [Measure, Measure, Measure, Measure, Measure, Measure, Measure, Measure, Measure, Measure, Measure];
  const rate = (m: { ms: number; rows: number }) => Math.round(m.rows / (m.ms / 1000));

  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const lines = [
    `Machine: ${cpus().length} cores (${cpu}), node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`,
    `Input: ${rows.toLocaleString('en-US')} rows x 14 columns Parquet (${(Number(execFileSync('stat', ['-c', '%s', small], { encoding: 'utf8' })) / 1e6).toFixed(0)} MB, snappy); medians of ${repeats} runs, each in a fresh process, the runs taking turns.`,
    '',
    '| run | rows | time (s) | rows/s | vs reader (same rows) | CPU (s, all threads) | peak RSS (MB) |',
    '|---|---:|---:|---:|---:|---:|---:|',
    // Each run against the bare reader of the same file (the Arrow row: of the same rows as Parquet).
    ...([
      ['bare reader (all columns to typed arrays)', reader, reader],
      [`bare reader, ${(bigRows / 1e6).toFixed(0)}M rows`, readerBig, readerBig],
      [`bare reader, ${(bigRows / 1e6).toFixed(0)}M rows, Arrow IPC file (${(Number(execFileSync('stat', ['-c', '%s', bigArrow], { encoding: 'utf8' })) / 1e6).toFixed(0)} MB)`, readerArrow, readerBig],
      ['scan: schema+range+duplicate, writes clean+quarantine+report', full, reader],
      ['scan: schema+range', rules, reader],
      [`scan: schema+range, ${(bigRows / 1e6).toFixed(0)}M rows`, rulesBig, readerBig],
      [`scan: schema+range+duplicate, ${(bigRows / 1e6).toFixed(0)}M rows`, fullBig, readerBig],
      ['scan: every check and detector, from a fitted model (one pass; a second only when a trigger is found)', detectors, reader],
      ['the same, the second scan in one process (code loaded and compiled, as a queue worker\'s later jobs)', detectorsWarm, reader],
      [`bare reader, CSV (the first ${(csvRows / 1e3).toFixed(0)}k rows as text)`, readerCsv, readerCsv],
      ['scan: schema+range+duplicate, CSV (text parsed against the contract; writes clean.csv)', fullCsv, readerCsv],
    ] as const).map(([name, m, ref]) =>
      `| ${name} | ${m.rows.toLocaleString('en-US')} | ${(m.ms / 1000).toFixed(2)} | ${rate(m).toLocaleString('en-US')} | ${(m.ms / ref.ms).toFixed(2)}x | ${(m.cpuMs / 1000).toFixed(2)} | ${m.maxRssMb.toFixed(0)} |`),
    '',
    `Peak RSS, schema+range, ${(bigRows / 1e6).toFixed(0)}M vs ${(rows / 1e6).toFixed(0)}M rows: ${((rulesBig.maxRssMb / rules.maxRssMb - 1) * 100).toFixed(1)}% more ` +
      `(the bare reader alone: ${((readerBig.maxRssMb / reader.maxRssMb - 1) * 100).toFixed(1)}% more).`,
    `Duplicate-check state: ${(fullBig.maxRssMb - rulesBig.maxRssMb).toFixed(0)} MB more RSS at ${(bigRows / 1e6).toFixed(0)}M rows (hash table: 10.7 bytes a row when the row count is known).`,
  ];
  const text = lines.join('\n');
  console.log(text);
  writeFileSync(join(WORK, 'scan-bench.md'), `${text}\n`);
}

if (args.child) await child(args.child);
else await main();
