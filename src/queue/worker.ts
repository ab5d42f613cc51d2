// A queue worker: takes dataset and range jobs and runs them in forked processes (one per
// concurrent job). close() lets the active jobs finish first, which is what SIGTERM should do.
import { utimes, writeFile } from 'node:fs/promises';
import { Worker, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { createRedis } from './connection.js';
import { RANGE_JOB, SCAN_JOB, type RangeJobData, type ScanJobData } from './jobs.js';
import { removeRangeResults } from './range-results.js';
import {
  connectionSettings,
  jobSettings,
  QUEUE_NAME,
  redactedUrl,
  spareCores,
  workerName,
  workerSettings,
  type ConnectionSettings,
  type JobSettings,
  type WorkerSettings,
} from './settings.js';

export interface StartWorkerOptions extends Partial<WorkerSettings> {
  readonly connection?: Partial<ConnectionSettings>;
  readonly jobs?: Partial<JobSettings>;
  readonly log?: Logger;
  /** Touched every few seconds while Redis answers: a container health check reads its age. */
  readonly heartbeatFile?: string;
}

export interface ScanWorker {
  readonly worker: Worker;
  readonly settings: WorkerSettings & ConnectionSettings;
  /** Waits for the active jobs, then disconnects. */
  close(): Promise<void>;
}

const HEARTBEAT_MS = 10_000;

/** The forked processor: compiled JavaScript next to this file. */
export const PROCESSOR_FILE = new URL('./processor.js', import.meta.url);

/**
 * A dataset job that failed for good (itself, or through a range job that failed for good) leaves
 * nothing in its out dir: its range results and saved model go. A job that will be retried keeps them.
 */
async function removeResultsOfFailedScan(job: Job): Promise<void> {
  if ((await job.getState()) !== 'failed') return;
  const data = job.data as Partial<ScanJobData & RangeJobData>;
  if (job.name === SCAN_JOB && data.fanOut) await removeRangeResults(data.fanOut.outDir, job.id!);
  if (job.name === RANGE_JOB && data.outDir && job.parent?.id) await removeRangeResults(data.outDir, job.parent.id);
}

export async function startWorker(options: StartWorkerOptions = {}): Promise<ScanWorker> {
  const connection = connectionSettings(options.connection);
  const tunables = workerSettings(options);
  const jobs = jobSettings(options.jobs);
  const log = options.log;
  const redis = createRedis(connection, 'worker');
  let redisDown = false;
  redis.on('error', (error) => {
    // Once per outage: ioredis reconnects on its own, and the jobs wait for it.
    if (!redisDown) log?.error({ error: error.message }, 'Redis connection lost; reconnecting');
    redisDown = true;
  });
  redis.on('ready', () => {
    if (redisDown) log?.info('Redis connection back');
    redisDown = false;
  });
  const worker = new Worker(QUEUE_NAME, PROCESSOR_FILE, {
    connection: redis,
    prefix: connection.prefix,
    concurrency: tunables.concurrency,
    // The host in the name lets a job tell workers on other machines from this one's slots.
    name: workerName(tunables.host),
    lockDuration: tunables.lockDurationMs,
    // Look for stalled jobs as often as a lock can expire, so a dead worker's job moves on quickly.
    stalledInterval: Math.min(30_000, tunables.lockDurationMs),
    maxStalledCount: 1,
    workerForkOptions: {
      // The forked processor reads the same settings this worker was given.
      env: {
        ...process.env,
        REDIS_URL: connection.redisUrl,
        DATAWARDEN_QUEUE_PREFIX: connection.prefix,
        DATAWARDEN_QUEUE_RANGE_ROWS: String(tunables.rangeRows),
        DATAWARDEN_QUEUE_SPLIT: tunables.split,
        DATAWARDEN_QUEUE_CONCURRENCY: String(tunables.concurrency),
        DATAWARDEN_WORKER_HOST: tunables.host,
        DATAWARDEN_QUEUE_ATTEMPTS: String(jobs.attempts),
        DATAWARDEN_QUEUE_BACKOFF_MS: String(jobs.backoffMs),
        LOG_LEVEL: log?.level ?? process.env.LOG_LEVEL ?? 'warn',
        // Parallelism comes from job slots (one forked process each), not from DuckDB's threads;
        // detector scoring takes the cores the slots leave (see detectors.md, scoring threads).
        DATAWARDEN_DUCKDB_THREADS: process.env.DATAWARDEN_DUCKDB_THREADS || '1',
        DATAWARDEN_SCORING_THREADS: process.env.DATAWARDEN_SCORING_THREADS || String(spareCores(tunables.concurrency)),
      },
    },
  });
  worker.on('completed', (job, result: { verdict?: string } | undefined) => log?.info({ jobId: job.id, job: job.name, verdict: result?.verdict }, 'job completed'));
  worker.on('failed', (job, error) => {
    log?.warn({ jobId: job?.id, job: job?.name, attemptsMade: job?.attemptsMade, error: error.message }, 'job failed');
    if (job) void removeResultsOfFailedScan(job).catch(() => undefined);
  });
  worker.on('stalled', (jobId) => log?.warn({ jobId }, 'stalled job moved back to wait'));
  worker.on('error', (error) => log?.error({ error: error.message }, 'worker error'));
  await worker.waitUntilReady();
  log?.info({ redis: redactedUrl(connection.redisUrl), prefix: connection.prefix, ...tunables }, 'worker started');

  let heartbeat: NodeJS.Timeout | undefined;
  if (options.heartbeatFile) {
    const file = options.heartbeatFile;
    const beat = async () => {
      try {
        await redis.ping();
        const now = new Date();
        await utimes(file, now, now).catch(() => writeFile(file, `${process.pid}\n`));
      } catch (error) {
        log?.warn({ error: (error as Error).message }, 'heartbeat skipped: Redis does not answer');
      }
    };
    await beat();
    heartbeat = setInterval(() => void beat(), HEARTBEAT_MS);
    heartbeat.unref();
  }

  return {
    worker,
    settings: { ...tunables, ...connection },
    async close() {
      if (heartbeat) clearInterval(heartbeat);
      await worker.close();
      redis.disconnect();
    },
  };
}
