// Queue throughput against an in-process scan: rows/s and datasets/minute with 1 and 2 worker
// processes on generated Parquet, and the per-job overhead of going through Redis. Needs Redis
// (REDIS_URL, default redis://127.0.0.1:6379); uses its own key prefix and removes it.
//
//   npm run build && node dist/bench/queue.bench.js [--rows 2000000] [--datasets 4] [--checks all|a,b]
//     [--range-rows 500000] [--overhead-jobs 20] [--detector-rows 500000] [--detector-range-rows 125000]
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { loadContract } from '../src/contract/load.js';
import { fit, saveModel } from '../src/pipeline/fit.js';
import { scan } from '../src/pipeline/scan.js';
import { ScanQueue } from '../src/queue/client.js';
import { writeGeneratedContract, writeGeneratedTable } from './lib/generated-table.js';
import { machineDescription } from './lib/machine.js';
import { repoRoot } from './lib/paths.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '2000000' },
    datasets: { type: 'string', default: '4' },
    checks: { type: 'string', default: 'schema,range,label,duplicate' },
    'overhead-jobs': { type: 'string', default: '20' },
    'range-rows': { type: 'string', default: '500000' },
    'detector-rows': { type: 'string', default: '500000' },
    'detector-range-rows': { type: 'string', default: '125000' },
  },
});

const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const WORK = join(tmpdir(), 'datawarden-bench');
const CLI = join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
const checks = args.checks === 'all' ? undefined : args.checks.split(',');
/** The detector section runs every check, detectors included (null: no --checks). */
const ALL_CHECKS = null;

function startWorker(prefix: string, split = 'auto', rangeRows = args['range-rows']): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CLI, 'worker', '--log-level', 'info', '--range-rows', rangeRows, '--split', split], {
    env: { ...process.env, REDIS_URL, DATAWARDEN_QUEUE_PREFIX: prefix },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let log = '';
    child.stderr!.on('data', (d: Buffer) => {
      log += d.toString();
      if (log.includes('"worker started"')) resolve(child);
    });
    child.on('exit', () => reject(new Error(`worker exited: ${log}`)));
  });
}

async function stopWorkers(workers: ChildProcess[]): Promise<void> {
  await Promise.all(workers.map((w) => new Promise<void>((resolve) => {
    if (w.exitCode !== null) return resolve();
    w.removeAllListeners('exit');
    w.on('exit', () => resolve());
    w.kill('SIGTERM');
  })));
}

async function removeKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
  redis.disconnect();
}

interface Throughput { workers: number; datasets: number; rows: number; seconds: number; ranges: number }

/**
 * Workers fork their processor (and load the libraries) on their first job; long-running workers
 * have done so long ago, so the timed runs start after a few tiny jobs.
 */
async function warmUp(queue: ScanQueue, contract: string, workerCount: number): Promise<void> {
  const tiny = join(WORK, 'queue-bench-100-v2.parquet');
  const ids = [];
  for (let j = 0; j < workerCount * 3; j++) {
    ids.push((await queue.enqueue({ input: tiny, contract, outDir: join(WORK, `warm-up-${j}`), checks, auditLog: null })).id);
  }
  for (const id of ids) await queue.wait(id, { pollMs: 20 });
  for (let j = 0; j < workerCount * 3; j++) rmSync(join(WORK, `warm-up-${j}`), { recursive: true, force: true });
}

/** `datasets` scans of `input` enqueued at once (distinct out dirs: distinct jobs) on `workerCount` fresh workers. */
async function throughput(
  workerCount: number, input: string, contract: string, datasets: number, rowsEach: number, split = 'auto',
  scanChecks: string[] | null | undefined = checks,
  modelPath?: string,
  rangeRows = args['range-rows'],
): Promise<Throughput> {
  const prefix = `dwbench-${randomBytes(3).toString('hex')}`;
  const workers: ChildProcess[] = [];
  for (let i = 0; i < workerCount; i++) workers.push(await startWorker(prefix, split, rangeRows));
  const queue = new ScanQueue({ connection: { redisUrl: REDIS_URL, prefix } });
  try {
    await warmUp(queue, contract, workerCount);
    const started = performance.now();
    const ids: string[] = [];
    for (let d = 0; d < datasets; d++) {
      const out = join(WORK, `queue-out-${prefix}-${d}`);
      ids.push((await queue.enqueue({ input, contract, outDir: out, checks: scanChecks ?? undefined, modelPath, auditLog: null })).id);
    }
    let ranges = 0;
    await Promise.all(ids.map(async (id) => {
      const status = await queue.wait(id, { pollMs: 50 });
      if (status.state !== 'completed') throw new Error(`${id} ${status.state}: ${status.failedReason}`);
      ranges += status.summary!.ranges;
    }));
    const seconds = (performance.now() - started) / 1000;
    return { workers: workerCount, datasets, rows: datasets * rowsEach, seconds, ranges };
  } finally {
    await queue.close();
    await stopWorkers(workers);
    await removeKeys(prefix);
    for (let d = 0; d < datasets; d++) rmSync(join(WORK, `queue-out-${prefix}-${d}`), { recursive: true, force: true });
  }
}

/** Wall time of `count` processes run side by side, process i running node with `argv(i)`. */
async function sideBySide(count: number, argv: (i: number) => string[], env: NodeJS.ProcessEnv = {}, cleanUp: (i: number) => void = () => {}): Promise<number> {
  const started = performance.now();
  await Promise.all(Array.from({ length: count }, (_, i) => new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, argv(i), { env: { ...process.env, ...env }, stdio: 'ignore' });
    child.on('exit', (code) => {
      cleanUp(i);
      if (code !== null && code < 3) resolve();
      else reject(new Error(`${argv(i).join(' ')} exited ${code}`));
    });
  })));
  return (performance.now() - started) / 1000;
}

/** In-process scans side by side, each in its own process: what the machine allows this work. */
function scansSideBySide(count: number, input: string, contract: string): Promise<number> {
  const out = (i: number) => join(WORK, `side-${count}-${i}`);
  return sideBySide(
    count,
    (i) => [CLI, 'scan', input, '--contract', contract, '--out', out(i), '--no-audit', ...(checks ? ['--checks', checks.join(',')] : [])],
    { DATAWARDEN_DUCKDB_THREADS: '1' },
    (i) => rmSync(out(i), { recursive: true, force: true }),
  );
}

/** An arithmetic loop that touches no memory, side by side: whether the machine's cores are cores of their own. */
function arithmeticSideBySide(count: number): Promise<number> {
  const loop = 'let x = 1, y = 2; for (let i = 0; i < 4e8; i++) { x = (x * 1664525 + 1013904223) | 0; y ^= x >>> 3; } if (y === 42) console.log(y);';
  return sideBySide(count, () => ['-e', loop]);
}

/** Mean time of a tiny scan through the queue (enqueue, wait) against the same scan in process. */
async function overhead(input: string, contract: string, jobs: number): Promise<{ queueMs: number; localMs: number }> {
  const prefix = `dwbench-${randomBytes(3).toString('hex')}`;
  const workers = [await startWorker(prefix)];
  const queue = new ScanQueue({ connection: { redisUrl: REDIS_URL, prefix } });
  const loaded = await loadContract(contract);
  try {
    let queueMs = 0;
    let localMs = 0;
    // One warm-up each: the worker forks its processor on the first job.
    for (let j = -1; j < jobs; j++) {
      const out = join(WORK, `overhead-${prefix}-${j}`);
      let t = performance.now();
      const { id } = await queue.enqueue({ input, contract, outDir: out, checks, auditLog: null });
      const status = await queue.wait(id, { pollMs: 5 });
      if (status.state !== 'completed') throw new Error(`${id}: ${status.failedReason}`);
      if (j >= 0) queueMs += performance.now() - t;
      t = performance.now();
      await scan({ input, contract: loaded, outDir: `${out}-local`, checks });
      if (j >= 0) localMs += performance.now() - t;
      rmSync(out, { recursive: true, force: true });
      rmSync(`${out}-local`, { recursive: true, force: true });
    }
    return { queueMs: queueMs / jobs, localMs: localMs / jobs };
  } finally {
    await queue.close();
    await stopWorkers(workers);
    await removeKeys(prefix);
  }
}

async function main(): Promise<void> {
  mkdirSync(WORK, { recursive: true });
  const rows = Number(args.rows);
  const datasets = Number(args.datasets);
  const input = join(WORK, `queue-bench-${rows}-v2.parquet`);
  const tiny = join(WORK, 'queue-bench-100-v2.parquet');
  const contract = join(WORK, 'queue-bench.contract.json');
  await writeGeneratedTable(input, rows, 42);
  await writeGeneratedTable(tiny, 100, 42);
  writeGeneratedContract(contract);

  const inProcess = async (path: string, scanChecks: string[] | null | undefined, modelPath?: string) => {
    const started = performance.now();
    await scan({ input: path, contract: await loadContract(contract), outDir: join(WORK, 'queue-bench-local'), checks: scanChecks ?? undefined, modelPath });
    rmSync(join(WORK, 'queue-bench-local'), { recursive: true, force: true });
    return (performance.now() - started) / 1000;
  };
  const localSeconds = await inProcess(input, checks);

  const aloneSeconds = await scansSideBySide(1, input, contract);
  const pairSeconds = await scansSideBySide(2, input, contract);
  const loopAlone = await arithmeticSideBySide(1);
  const loopPair = await arithmeticSideBySide(2);
  const single1 = await throughput(1, input, contract, 1, rows);
  const single2 = await throughput(2, input, contract, 1, rows, 'always');
  const one = await throughput(1, input, contract, datasets, rows);
  const two = await throughput(2, input, contract, datasets, rows);
  const oneSplit = await throughput(1, input, contract, datasets, rows, 'always');
  const twoSplit = await throughput(2, input, contract, datasets, rows, 'always');
  const cost = await overhead(tiny, contract, Number(args['overhead-jobs']));
  const detectorRows = Number(args['detector-rows']);
  const detectorInput = join(WORK, `queue-bench-${detectorRows}-v2.parquet`);
  await writeGeneratedTable(detectorInput, detectorRows, 42);
  // Fitted once beforehand, as `datawarden fit` does: the scans only apply it.
  const modelPath = join(WORK, 'queue-bench.model.json');
  await saveModel(await fit({ dataset: detectorInput, contract: await loadContract(contract), seed: 42 }), modelPath);
  const detectorLocal = await inProcess(detectorInput, ALL_CHECKS, modelPath);
  const detector1 = await throughput(1, detectorInput, contract, 1, detectorRows, 'auto', ALL_CHECKS, modelPath, args['detector-range-rows']);
  // Both workers run here, on one machine: --split auto would scan the dataset whole.
  const detector2 = await throughput(2, detectorInput, contract, 1, detectorRows, 'always', ALL_CHECKS, modelPath, args['detector-range-rows']);

  const rate = (r: { rows: number; seconds: number }) => Math.round(r.rows / r.seconds);
  const line = (name: string, r: Throughput, base: Throughput) =>
    `| ${name} | ${r.rows.toLocaleString('en-US')} | ${r.ranges} | ${r.seconds.toFixed(2)} | ${rate(r).toLocaleString('en-US')} | ${((r.datasets / r.seconds) * 60).toFixed(1)} | ${(rate(r) / rate(base)).toFixed(2)}x |`;
  const text = [
    `Machine: ${machineDescription()}; Redis at ${REDIS_URL.replace(/:[^:@/]*@/, ':***@')}; ${new Date().toISOString().slice(0, 10)}.`,
    `Input: ${rows.toLocaleString('en-US')} rows x 14 columns Parquet, ${Math.ceil(rows / 122880)} row groups, split into ranges of about ${Number(args['range-rows']).toLocaleString('en-US')} rows; checks: ${checks ? checks.join(',') : 'all (detectors fitted on a sample of the input)'}. Each worker is one process running one job at a time (--concurrency 1).`,
    '',
    '| run | rows | range jobs | wall time (s) | rows/s | datasets/min | vs 1 worker, same datasets |',
    '|---|---:|---:|---:|---:|---:|---:|',
    `| in-process scan, 1 dataset | ${rows.toLocaleString('en-US')} | | ${localSeconds.toFixed(2)} | ${Math.round(rows / localSeconds).toLocaleString('en-US')} | ${(60 / localSeconds).toFixed(1)} | |`,
    line(`queue, 1 worker, 1 dataset (scanned whole)`, single1, single1),
    line(`queue, 2 workers, 1 dataset, --split always`, single2, single1),
    line(`queue, 1 worker, ${datasets} datasets at once`, one, one),
    line(`queue, 2 workers, ${datasets} datasets at once`, two, one),
    line(`queue, 1 worker, ${datasets} datasets at once, --split always`, oneSplit, oneSplit),
    line(`queue, 2 workers, ${datasets} datasets at once, --split always`, twoSplit, oneSplit),
    '',
    '',
    `Every check, detectors included (with --model: a bundle fitted beforehand), ${detectorRows.toLocaleString('en-US')} rows, range jobs of about ${Number(args['detector-range-rows']).toLocaleString('en-US')} rows:`,
    '',
    '| run | rows | range jobs | wall time (s) | rows/s | datasets/min | vs 1 worker, same datasets |',
    '|---|---:|---:|---:|---:|---:|---:|',
    `| in-process scan | ${detectorRows.toLocaleString('en-US')} | | ${detectorLocal.toFixed(2)} | ${Math.round(detectorRows / detectorLocal).toLocaleString('en-US')} | ${(60 / detectorLocal).toFixed(1)} | |`,
    line('queue, 1 worker (scanned whole)', detector1, detector1),
    line('queue, 2 workers, --split always', detector2, detector1),
    '',
    `2 workers vs 1, ${datasets} datasets: ${(rate(two) / rate(one)).toFixed(2)}x rows/s (target >= 1.7x); ` +
      `2 workers vs 1 in-process scan: ${(rate(two) / (rows / localSeconds)).toFixed(2)}x.`,
    `Machine ceiling: 2 in-process scans side by side (separate processes) give ${((2 * aloneSeconds) / pairSeconds).toFixed(2)}x the rows/s of one ` +
      `(${aloneSeconds.toFixed(2)} s alone, ${pairSeconds.toFixed(2)} s for two); two arithmetic loops that touch no memory, ` +
      `${((2 * loopAlone) / loopPair).toFixed(2)}x (${loopAlone.toFixed(2)} s alone, ${loopPair.toFixed(2)} s for two).`,
    `Per-job overhead (100-row dataset, mean of ${args['overhead-jobs']}, enqueue to completion seen by a 5 ms poll): ` +
      `${cost.queueMs.toFixed(0)} ms through the queue vs ${cost.localMs.toFixed(0)} ms in process: ${(cost.queueMs - cost.localMs).toFixed(0)} ms per job.`,
  ].join('\n');
  console.log(text);
  writeFileSync(join(WORK, 'queue-bench.md'), `${text}\n`);
}

await main();
