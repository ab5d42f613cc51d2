// Shared by the queue tests: a unique key prefix per test (removed afterwards), worker processes
// started as a user starts them, and generated multi-row-group Parquet inputs.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import { Redis } from 'ioredis';
import { CLI, ROOT } from '../helpers.js';
import { readAll } from '../io/read-all.js';

export const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

/**
 * The rule checks: tests about the queue itself (counts, lifecycle, webhooks) use these, so their
 * figures do not move with the detectors and no time goes into fitting. The equality tests run
 * every check.
 */
export const RULE_CHECKS = ['schema', 'range', 'label', 'duplicate', 'source'];

/** A key prefix no other test uses. */
export function uniquePrefix(label: string): string {
  return `dwtest-${label}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** Fails with a clear message when no Redis answers (CI starts one). */
export async function requireRedis(): Promise<void> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, retryStrategy: () => null, lazyConnect: true });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new Error(`these tests need Redis at ${REDIS_URL} (start redis-server or set REDIS_URL): ${(error as Error).message}`);
  } finally {
    redis.disconnect();
  }
}

/** Deletes every key under the prefix. */
export async function removeKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export function queueEnv(prefix: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { REDIS_URL, DATAWARDEN_QUEUE_PREFIX: prefix, ...extra };
}

export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything the worker wrote to stderr so far (pino JSON lines). */
  log(): string;
  /** Resolves with the exit code, or the signal name when killed. */
  readonly exited: Promise<number | string>;
  stop(): Promise<number | string>;
}

/** `datawarden worker` in its own process; resolves once it is taking jobs. */
export async function startWorkerProcess(prefix: string, args: readonly string[] = [], env: NodeJS.ProcessEnv = {}): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [CLI, 'worker', '--log-level', 'info', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...queueEnv(prefix, env) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const deadline = Date.now() + 20_000;
  while (!stderr.includes('"worker started"')) {
    if (child.exitCode !== null) throw new Error(`worker exited early: ${stderr}`);
    if (Date.now() > deadline) throw new Error(`worker did not start: ${stderr}`);
    await sleep(50);
  }
  return {
    child,
    pid: child.pid!,
    log: () => stderr,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Processes whose parent is `pid` (Linux /proc). */
export function childPids(pid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name is in parentheses and may hold spaces: fields resume after the last ')'.
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === pid) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A Parquet file of the credit columns with `copies` copies of the trusted rows (ids and times
 * made unique per copy), every 97th row of each copy out of range, and some exact repeats of earlier rows
 * near the end, so duplicates cross ranges. Small row groups so the queue splits it.
 */
export async function writeCreditParquet(path: string, copies: number, rowGroupRows: number): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const db = await instance.connect();
  const trusted = `read_parquet('${ROOT}/datasets/credit/trusted.parquet')`;
  await db.run(`CREATE TABLE base AS SELECT row_number() OVER () AS k, * FROM ${trusted}`);
  await db.run(`CREATE TABLE rows AS
    SELECT c.i * 100000 + b.k AS ord,
           b.* EXCLUDE (k, application_id, age, applied_at),
           b.application_id || '-' || c.i AS application_id,
           CASE WHEN (b.k + c.i) % 97 = 0 THEN b.age + 200 ELSE b.age END AS age,
           b.applied_at + to_seconds(c.i) AS applied_at
    FROM base b, range(${copies}) c(i)`);
  await db.run(`INSERT INTO rows SELECT ${copies} * 100000 + ord, * EXCLUDE (ord) FROM rows WHERE ord % 1000 = 1 AND ord < 200000`);
  await db.run(`COPY (SELECT application_id, source, age, income, loan_amount, credit_score, debt_ratio, employment_years,
      home_ownership, purpose, applied_at, approved FROM rows ORDER BY ord)
    TO '${path}' (FORMAT parquet, ROW_GROUP_SIZE ${rowGroupRows})`);
  db.closeSync();
}

/** `_row` -> `_reasons` of a quarantine file. */
export async function quarantineOf(path: string): Promise<Map<number, string>> {
  const { values, rows } = await readAll(path, 'typed');
  const map = new Map<number, string>();
  for (let r = 0; r < rows; r++) map.set(Number(values._row![r]), String(values._reasons![r]));
  return map;
}

/** Polls `probe` until it returns a value (not undefined) or the time is up. */
export async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
