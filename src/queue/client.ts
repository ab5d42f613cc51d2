// The producer side: enqueue a scan, ask how it is doing, wait for it. A scan's job id is a
// digest of its inputs and options, so enqueueing the same work twice returns the first job.
import { setTimeout as sleep } from 'node:timers/promises';
import { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { InputError } from '../core/errors.js';
import { selectChecks } from '../checks/index.js';
import { loadContract } from '../contract/load.js';
import { createRedis } from './connection.js';
import { RANGE_JOB, SCAN_JOB, type RangeJobResult, type ScanJobData, type ScanRequest, type ScanSummary } from './jobs.js';
import { absoluteRequest, hashRequestFiles, scanJobId } from './request.js';
import { bullmqKeep, connectionSettings, jobSettings, QUEUE_NAME, redactedUrl, type ConnectionSettings, type JobSettings } from './settings.js';

export interface ScanQueueOptions {
  readonly connection?: Partial<ConnectionSettings>;
  readonly jobs?: Partial<JobSettings>;
}

export interface EnqueuedScan {
  readonly id: string;
  /** The same work was already on the queue (or finished and still kept): this is that job. */
  readonly existing: boolean;
  /** Its state when enqueue returned; a failed job enqueued again is retried ('waiting'). */
  readonly state: string;
}

export interface ScanJobStatus {
  readonly id: string;
  /** `scan` for a dataset job, `range` for one of its range jobs. */
  readonly name: string;
  /** waiting, delayed, active, waiting-children, completed, failed, ... */
  readonly state: string;
  readonly rowsDone: number;
  /** Known once a dataset job has been split into ranges, or when it completed. */
  readonly totalRows: number | null;
  readonly ranges: { readonly total: number; readonly done: number } | null;
  readonly attemptsMade: number;
  readonly outDir: string | null;
  readonly summary: ScanSummary | null;
  readonly failedReason: string | null;
  /** Reasons of range jobs that failed for good. */
  readonly failedRanges: readonly string[];
  readonly createdAt: string;
  readonly finishedAt: string | null;
}

export interface WaitOptions {
  readonly onProgress?: (status: ScanJobStatus) => void;
  /** Give up after this long (default: never). */
  readonly timeoutMs?: number;
  readonly pollMs?: number;
}

/** The exit code a finished job stands for: the scan's verdict code, or 3 when it failed. */
export function exitCodeOf(status: ScanJobStatus): number {
  if (status.state === 'completed' && status.summary) return status.summary.exitCode;
  return 3;
}

export class ScanQueue {
  readonly queue: Queue;
  readonly settings: ConnectionSettings;
  readonly jobs: JobSettings;
  private readonly redis: Redis;
  private connecting: Promise<void> | undefined;

  constructor(options: ScanQueueOptions = {}) {
    this.settings = connectionSettings(options.connection);
    this.jobs = jobSettings(options.jobs);
    this.redis = createRedis(this.settings, 'producer');
    this.queue = new Queue(QUEUE_NAME, { connection: this.redis, prefix: this.settings.prefix });
    // Connection errors surface once, from connect(), instead of as one log line per reconnect.
    this.queue.on('error', () => undefined);
  }

  /** Waits for Redis; InputError naming REDIS_URL when it cannot be reached. */
  connect(): Promise<void> {
    this.connecting ??= this.queue.waitUntilReady().then(
      () => undefined,
      (error: unknown) => {
        throw new InputError(`cannot reach Redis at ${redactedUrl(this.settings.redisUrl)}: ${(error as Error).message}`, { subject: 'REDIS_URL', cause: error });
      },
    );
    return this.connecting;
  }

  /** Job options every dataset job gets: retries with exponential backoff, retention. */
  jobOptions() {
    return {
      attempts: this.jobs.attempts,
      backoff: { type: 'exponential' as const, delay: this.jobs.backoffMs },
      removeOnComplete: bullmqKeep(this.jobs.keepCompleted),
      removeOnFail: bullmqKeep(this.jobs.keepFailed),
    };
  }

  /**
   * Checks the request (files readable, contract valid, checks known), then adds it unless the
   * same work is already there (a failed one is retried). With `rerun`, a finished job of the
   * same work is replaced by a new one. Relative paths are resolved against `cwd`.
   */
  async enqueue(request: ScanRequest, options: { cwd?: string; rerun?: boolean } = {}): Promise<EnqueuedScan> {
    const absolute = absoluteRequest(request, options.cwd);
    if (absolute.modelPath && absolute.baseline) throw new InputError('give a model or a baseline, not both', { subject: absolute.modelPath });
    await loadContract(absolute.contract);
    selectChecks(absolute.checks);
    const expected = await hashRequestFiles(absolute);
    const id = await scanJobId(absolute, expected);
    await this.connect();
    const found = await this.queue.getJob(id);
    if (found) {
      const state = await found.getState();
      if (options.rerun && (state === 'completed' || state === 'failed')) {
        await found.remove();
      } else if (state === 'failed') {
        await found.retry('failed');
        return { id, existing: true, state: await found.getState() };
      } else {
        return { id, existing: true, state };
      }
    }
    const data: ScanJobData = { request: absolute, expected };
    await this.queue.add(SCAN_JOB, data, { ...this.jobOptions(), jobId: id });
    // A concurrent enqueue of the same work may have won the race; either way this is the job.
    const added = await this.queue.getJob(id);
    return { id, existing: false, state: added ? await added.getState() : 'unknown' };
  }

  async status(id: string): Promise<ScanJobStatus | null> {
    await this.connect();
    // The state first: a job read after it reads completed carries its return value.
    const state = await this.queue.getJobState(id);
    const job = await this.queue.getJob(id);
    if (!job) return null;
    const data = job.data as Partial<ScanJobData>;
    const summary = state === 'completed' && job.name === SCAN_JOB ? (job.returnvalue as ScanSummary) : null;
    let rowsDone = typeof job.progress === 'number' ? job.progress : 0;
    let totalRows: number | null = summary?.rows ?? null;
    let ranges: ScanJobStatus['ranges'] = null;
    const fanOut = data.fanOut;
    if (fanOut && !summary) {
      totalRows = fanOut.ranges.at(-1)?.end ?? 0;
      const progress = await this.rangeProgress(job, fanOut.round);
      rowsDone = progress.rows;
      ranges = { total: fanOut.ranges.length, done: progress.done };
    } else if (summary) {
      rowsDone = summary.rows;
      ranges = { total: summary.ranges, done: summary.ranges };
    }
    const failedRanges = state === 'failed' && job.name === SCAN_JOB ? await this.failedRangeReasons(job) : [];
    return {
      id,
      name: job.name,
      state,
      rowsDone,
      totalRows,
      ranges,
      attemptsMade: job.attemptsMade,
      outDir: summary?.outDir ?? fanOut?.outDir ?? data.completingOutDir ?? (job.name === RANGE_JOB ? (data as { outDir?: string }).outDir ?? null : data.request?.outDir ?? null),
      summary,
      failedReason: job.failedReason || null,
      failedRanges,
      createdAt: new Date(job.timestamp).toISOString(),
      finishedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
    };
  }

  /**
   * Why a dataset job's ranges failed. BullMQ fails the parent with "child <key> failed"; the
   * reason is on the range job, which is kept as long as failed jobs are.
   */
  private async failedRangeReasons(job: Job): Promise<string[]> {
    const keys = new Set(Object.keys(await job.getFailedChildrenValues()));
    const named = /^child (\S+) failed/.exec(job.failedReason ?? '');
    if (named) keys.add(named[1]!);
    const reasons: string[] = [];
    for (const key of keys) {
      const id = key.slice(key.lastIndexOf(':') + 1);
      const child = await Job.fromId(this.queue, id);
      const range = (child?.data as { range?: { start: number; end: number } } | undefined)?.range;
      reasons.push(`${id}${range ? ` (rows ${range.start}-${range.end})` : ''}: ${child?.failedReason || 'reason not kept (removed by retention)'}`);
    }
    return reasons;
  }

  /** Rows checked so far by a dataset job's range jobs of this round. */
  private async rangeProgress(job: Job, round: number): Promise<{ rows: number; done: number }> {
    const dependencies = await job.getDependencies({ processed: { count: 10_000 }, unprocessed: { count: 10_000 } });
    let rows = 0;
    let done = 0;
    for (const value of Object.values(dependencies.processed ?? {})) {
      const result = (typeof value === 'string' ? JSON.parse(value) : value) as RangeJobResult;
      if (result?.round !== round) continue;
      rows += result.rows;
      done++;
    }
    for (const key of dependencies.unprocessed ?? []) {
      const child = await Job.fromId(this.queue, key.slice(key.lastIndexOf(':') + 1));
      if (child && typeof child.progress === 'number' && (child.data as { round?: number }).round === round) rows += child.progress;
    }
    return { rows, done };
  }

  /** Polls until the job completes or fails. */
  async wait(id: string, options: WaitOptions = {}): Promise<ScanJobStatus> {
    const deadline = options.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.timeoutMs;
    for (;;) {
      // One cheap call per poll; the full status (children's progress) only when someone shows it.
      const state = await this.queue.getJobState(id);
      const status = state === 'completed' || state === 'failed' || options.onProgress ? await this.status(id) : null;
      if (state === 'unknown' || (status === null && (state === 'completed' || state === 'failed' || options.onProgress))) {
        throw new InputError('no such job (never enqueued, or removed by retention)', { subject: id });
      }
      if (status && (status.state === 'completed' || status.state === 'failed')) return status;
      if (status) options.onProgress?.(status);
      if (Date.now() > deadline) throw new Error(`job ${id} still ${state} after ${options.timeoutMs} ms`);
      await sleep(options.pollMs ?? 250);
    }
  }

  async close(): Promise<void> {
    await this.queue.close();
    this.redis.disconnect();
  }
}

/** Runs `work` with a queue that is closed afterwards. */
export async function withScanQueue<T>(options: ScanQueueOptions, work: (queue: ScanQueue) => Promise<T>): Promise<T> {
  const queue = new ScanQueue(options);
  try {
    return await work(queue);
  } finally {
    await queue.close();
  }
}

/** Enqueues one scan (see ScanQueue.enqueue). */
export function enqueue(request: ScanRequest, options: ScanQueueOptions & { cwd?: string; rerun?: boolean } = {}): Promise<EnqueuedScan> {
  return withScanQueue(options, (queue) => queue.enqueue(request, { cwd: options.cwd, rerun: options.rerun }));
}

/** A job's state, progress and, once it completed, its summary; null for an unknown id. */
export function scanStatus(id: string, options: ScanQueueOptions = {}): Promise<ScanJobStatus | null> {
  return withScanQueue(options, (queue) => queue.status(id));
}

/** Waits until a job completes or fails. */
export function waitForScan(id: string, options: ScanQueueOptions & WaitOptions = {}): Promise<ScanJobStatus> {
  return withScanQueue(options, (queue) => queue.wait(id, options));
}
