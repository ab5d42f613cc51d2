// Queue settings from options and the environment: where Redis is, the key prefix, retries,
// retention and worker tunables. Every setting has one environment variable and one default,
// so a worker, a producer and a scheduler started with the same environment agree.
import { availableParallelism, hostname } from 'node:os';
import { InputError } from '../core/errors.js';
import { keyPrefixFrom, redisOptionsFromUrl, redisUrlFrom } from '../core/redis-url.js';

// Connection URLs are parsed in core, where the replay memory's Redis store uses them too.
export { redactedUrl, redisOptionsFromUrl, type RedisConnectionOptions } from '../core/redis-url.js';

/** The BullMQ queue every dataset job and range job goes to (keys: `<prefix>:scans:*`). */
export const QUEUE_NAME = 'scans';

/** Rows per range job: Parquet row groups are grouped to about this many rows. */
export const DEFAULT_RANGE_ROWS = 500_000;

/** How many finished jobs Redis keeps: the newest `count`, none older than `age` seconds. */
export interface KeepJobs {
  readonly count?: number;
  readonly age?: number;
}

export interface ConnectionSettings {
  readonly redisUrl: string;
  readonly prefix: string;
}

export interface JobSettings {
  /** Attempts per job; only I/O errors use more than one. */
  readonly attempts: number;
  /** First retry delay; doubles with each attempt. */
  readonly backoffMs: number;
  readonly keepCompleted: KeepJobs;
  readonly keepFailed: KeepJobs;
}

/**
 * When a dataset job splits into range jobs. Splitting lets idle workers share the checking of
 * one dataset, but the completion reads the input again to route rows. `auto` splits when that
 * pays: the checks are expensive (detectors) or an in-process scan would read twice anyway (a
 * check that flags at the end), the job is the only one on the queue, and another job slot
 * exists. `always` and `never` do what they say.
 */
export type SplitMode = 'auto' | 'always' | 'never';
export const SPLIT_MODES: readonly SplitMode[] = ['auto', 'always', 'never'];

export interface WorkerSettings {
  readonly concurrency: number;
  /** A job whose worker stops renewing its lock for this long is handed to another worker. */
  readonly lockDurationMs: number;
  readonly rangeRows: number;
  readonly split: SplitMode;
  /** The machine the worker runs on, as other workers see it (in its BullMQ worker name). */
  readonly host: string;
}

export const DEFAULT_KEEP_COMPLETED: KeepJobs = { count: 1000, age: 7 * 86_400 };
export const DEFAULT_KEEP_FAILED: KeepJobs = { count: 5000, age: 30 * 86_400 };

type Env = NodeJS.ProcessEnv;

export function connectionSettings(overrides: Partial<ConnectionSettings> = {}, env: Env = process.env): ConnectionSettings {
  const redisUrl = overrides.redisUrl ?? redisUrlFrom(env);
  const prefix = overrides.prefix ?? keyPrefixFrom(env);
  redisOptionsFromUrl(redisUrl);
  if (prefix === '' || prefix.includes(':')) {
    throw new InputError(`queue prefix '${prefix}' must be non-empty and contain no ':'`, { subject: 'DATAWARDEN_QUEUE_PREFIX' });
  }
  return { redisUrl, prefix };
}

export function jobSettings(overrides: Partial<JobSettings> = {}, env: Env = process.env): JobSettings {
  return {
    attempts: overrides.attempts ?? integerSetting(env, 'DATAWARDEN_QUEUE_ATTEMPTS', 5, 1),
    backoffMs: overrides.backoffMs ?? integerSetting(env, 'DATAWARDEN_QUEUE_BACKOFF_MS', 5000, 0),
    keepCompleted: overrides.keepCompleted ?? keepSetting(env, 'DATAWARDEN_QUEUE_KEEP_COMPLETED', DEFAULT_KEEP_COMPLETED),
    keepFailed: overrides.keepFailed ?? keepSetting(env, 'DATAWARDEN_QUEUE_KEEP_FAILED', DEFAULT_KEEP_FAILED),
  };
}

export function workerSettings(overrides: Partial<WorkerSettings> = {}, env: Env = process.env): WorkerSettings {
  return {
    concurrency: overrides.concurrency ?? integerSetting(env, 'DATAWARDEN_QUEUE_CONCURRENCY', 1, 1),
    lockDurationMs: overrides.lockDurationMs ?? integerSetting(env, 'DATAWARDEN_QUEUE_LOCK_MS', 30_000, 500),
    rangeRows: overrides.rangeRows ?? integerSetting(env, 'DATAWARDEN_QUEUE_RANGE_ROWS', DEFAULT_RANGE_ROWS, 1),
    split: overrides.split ?? parseSplit(env.DATAWARDEN_QUEUE_SPLIT || 'auto', 'DATAWARDEN_QUEUE_SPLIT'),
    host: overrides.host ?? (env.DATAWARDEN_WORKER_HOST || hostname()),
  };
}

/** Scoring threads each job slot's scans get: the cores the slots leave free, shared out, at most 4. */
export function spareCores(concurrency: number, cores = availableParallelism()): number {
  return Math.max(0, Math.min(4, Math.floor((cores - concurrency) / concurrency)));
}

/** A BullMQ worker name (stored on the jobs it runs, and in its Redis client name): host and pid. */
export function workerName(host: string, pid = process.pid): string {
  return `${encodeURIComponent(host)}@${pid}`;
}

/** The host in a worker's Redis client name (`<prefix>:<queue>:w:<name>`), or null when it has none. */
export function hostOfWorker(clientName: string | undefined): string | null {
  const at = clientName?.lastIndexOf(':w:') ?? -1;
  if (at < 0) return null;
  const name = clientName!.slice(at + 3);
  const pid = name.lastIndexOf('@');
  return pid < 0 ? null : decodeURIComponent(name.slice(0, pid));
}

export function parseSplit(text: string, subject: string): SplitMode {
  if (!(SPLIT_MODES as readonly string[]).includes(text)) throw new InputError(`expected one of ${SPLIT_MODES.join(', ')}, got '${text}'`, { subject });
  return text as SplitMode;
}

function integerSetting(env: Env, name: string, fallback: number, min: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  return parseInteger(text, name, min);
}

export function parseInteger(text: string, subject: string, min: number): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min) throw new InputError(`expected an integer >= ${min}, got '${text}'`, { subject });
  return value;
}

function keepSetting(env: Env, name: string, fallback: KeepJobs): KeepJobs {
  const text = env[name];
  return text === undefined || text === '' ? fallback : parseKeep(text, name);
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/**
 * Retention as text: `100` keeps the newest 100 jobs, `7d` (or s, m, h) keeps jobs for that long,
 * `100,7d` both, `all` keeps every job, `0` none.
 */
export function parseKeep(text: string, subject = 'retention'): KeepJobs {
  if (text.trim() === 'all') return {};
  let keep: { count?: number; age?: number } = {};
  for (const part of text.split(',').map((p) => p.trim())) {
    const duration = /^(\d+)([smhd])$/.exec(part);
    if (duration) keep = { ...keep, age: Number(duration[1]) * DURATION_UNITS[duration[2]!]! };
    else if (/^\d+$/.test(part)) keep = { ...keep, count: Number(part) };
    else throw new InputError(`expected a count (100), an age (7d, 12h, 30m, 90s), both (100,7d) or 'all', got '${text}'`, { subject });
  }
  return keep;
}

/** BullMQ's form: `true` removes at once, `false` keeps forever. */
export function bullmqKeep(keep: KeepJobs): boolean | { count: number } | { age: number; count?: number } {
  if (keep.count === 0) return true;
  if (keep.age !== undefined) return keep.count === undefined ? { age: keep.age } : { age: keep.age, count: keep.count };
  if (keep.count !== undefined) return { count: keep.count };
  return false;
}
