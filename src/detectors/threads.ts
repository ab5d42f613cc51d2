// Threads that score batches for the detectors while the scan's own thread reads, checks and
// routes rows. A job (one task over one batch) is cut into row ranges; the job is posted to a
// thread, which takes its ranges in order, and the scan's thread, when it would otherwise wait
// for the job, takes ranges from the other end (helpUntil). Each range is claimed once, through
// an atomic compare-and-swap on a shared flag, and written by one call of the same function
// whoever runs it (scoring-tasks.ts), so scores do not depend on who did what.
// Models and batches live in SharedArrayBuffers: nothing is copied between threads. A thread that
// fails (an error, an exit, no answer in time) has its unfinished ranges redone here: threads
// only ever make a scan faster.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { WorkerThreads } from '../core/check.js';
import type { FeatureMatrix } from './features.js';
import { compileForest, scoreIsolationForest, type IsolationForest } from './isolation-forest.js';
import { checkWidth, runScoringTask, type ForestTask } from './scoring-tasks.js';
import { sharedFloat64, sharedInt32 } from './shared-arrays.js';

/** Rows per range: small enough to share a batch out evenly, large enough that claims cost nothing. */
export const CHUNK_ROWS = 8192;

/** A thread that has not finished a job this long after it was posted is given up on. */
const PATIENCE_MS = 120_000;

/** Range claims: free, done here, being done by a thread, done by a thread. */
export const FREE = 0;
export const DONE_HERE = 1;
export const TAKEN = 2;
export const DONE_THERE = 3;

/**
 * The worker script next to this module once compiled to .js. Under a TypeScript loader
 * (import.meta.url ends in .ts) there is no .js to run, and scoring stays on the calling thread.
 */
function workerScript(): URL | null {
  if (!import.meta.url.endsWith('.js')) return null;
  const url = new URL('./scoring-worker.js', import.meta.url);
  return url.protocol === 'file:' && existsSync(fileURLToPath(url)) ? url : null;
}

/** Whether scoring threads can run here (not under a TypeScript loader, which has no compiled worker). */
export function scoringThreadsAvailable(): boolean {
  return workerScript() !== null;
}

/**
 * Isolation-forest scores of one whole matrix, shared out between `threads` scoring threads and
 * this one: exactly scoreIsolationForest's scores (each row from the same call, whoever runs it).
 * For one large matrix, as the benchmarks score; a scan scores batch by batch (BatchScorer).
 */
export async function scoreIsolationForestParallel(forest: IsolationForest, matrix: FeatureMatrix, { threads = 1 }: { threads?: number } = {}): Promise<Float64Array> {
  checkWidth(matrix, forest.features, 'the forest');
  const pool = ScoringThreads.open(threads);
  if (pool === undefined) return scoreIsolationForest(forest, matrix);
  try {
    const data = pool.shared(matrix.data.length);
    data.set(matrix.data);
    const task: ForestTask = { compiled: compileForest(forest), data, stride: matrix.rows, out: pool.shared(matrix.rows) };
    const job = pool.runChunked('forest', task, matrix.rows);
    pool.helpUntil(pool.mark());
    await job;
    return task.out.slice();
  } finally {
    await pool.close();
  }
}

/**
 * Scoring threads for one scan: DATAWARDEN_SCORING_THREADS when set (0 for none), else one
 * fewer than the cores (the scan's own thread takes its share too), at most 4.
 */
export function defaultScoringThreads(): number {
  const set = process.env.DATAWARDEN_SCORING_THREADS;
  if (set !== undefined && set !== '') {
    const n = Number(set);
    if (Number.isInteger(n) && n >= 0) return n;
  }
  return Math.max(0, Math.min(4, availableParallelism() - 1));
}

/** What a thread is sent for one job. */
export interface JobMessage {
  readonly id: number;
  readonly task: string;
  readonly payload: object;
  readonly rows: number;
  /** One flag a range (FREE, DONE_HERE, TAKEN, DONE_THERE). */
  readonly claims: Int32Array;
}

/** A thread's answer: it has gone through every range of the job (or failed on one). */
export interface JobReply {
  readonly id: number;
  readonly error?: string;
}

interface Job extends JobMessage {
  readonly slot: Slot;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
  settled: boolean;
}

interface Slot {
  readonly worker: Worker;
  /** Jobs posted to this thread and not settled, oldest first. */
  readonly jobs: Job[];
  dead: boolean;
}

function rangeOf(rows: number, k: number): [number, number] {
  return [k * CHUNK_ROWS, Math.min(rows, (k + 1) * CHUNK_ROWS)];
}

/** Pools kept between scans, by thread count (ScoringThreads.lease). */
const keptPools = new Map<number, ScoringThreads>();

/** Shared arrays kept for reuse per length: a scan's batches are all one size. */
const POOLED_PER_LENGTH = 4;

export class ScoringThreads implements WorkerThreads {
  private readonly slots: Slot[] = [];
  /**
   * Released shared arrays by length. Fresh shared memory is costly to map, and is collected
   * late (it is external to the heap), so a scan would otherwise hold every batch's.
   */
  private readonly pool = new Map<number, Float64Array[]>();
  /** Open jobs in the order they were posted. */
  private readonly open: Job[] = [];
  private nextId = 0;
  private closed = false;
  /** Whether this pool is kept between scans (lease), and how many leases of it are open. */
  private kept = false;
  private leases = 0;

  private constructor(
    private readonly script: URL,
    private readonly size: number,
  ) {}

  /**
   * Threads for a scan, kept in the process after it for the next scan: a process that scans
   * again (a queue worker's job processor, a library user) finds its threads started and their
   * code compiled. Idle threads do not keep the process alive. Close the lease as a pool; its
   * threads stay, and the shared arrays it kept for reuse are let go. Concurrent leases share the
   * threads; a pool whose threads have all failed is replaced by a new one.
   */
  static lease(count = defaultScoringThreads()): ScoringThreads | undefined {
    const size = Math.floor(count);
    const kept = keptPools.get(size);
    if (kept !== undefined && kept.slots.some((slot) => !slot.dead)) {
      kept.leases++;
      return kept;
    }
    const threads = ScoringThreads.open(size);
    if (threads === undefined) return undefined;
    threads.kept = true;
    threads.leases = 1;
    keptPools.set(size, threads);
    return threads;
  }

  /** Threads for a scan, or undefined when there are none to use (count 0, or no compiled worker). */
  static open(count = defaultScoringThreads()): ScoringThreads | undefined {
    const script = workerScript();
    const size = Math.floor(count);
    if (script === null || !(size >= 1)) return undefined;
    const threads = new ScoringThreads(script, size);
    // The first thread starts now: it loads while the scan opens its input and reads a batch.
    threads.start();
    return threads;
  }

  shared(length: number): Float64Array {
    const reused = this.pool.get(length)?.pop();
    return reused === undefined ? sharedFloat64(length) : reused.fill(0);
  }

  release(array: Float64Array): void {
    if (!(array.buffer instanceof SharedArrayBuffer) || array.byteOffset !== 0 || array.byteLength !== array.buffer.byteLength) return;
    let free = this.pool.get(array.length);
    if (free === undefined) this.pool.set(array.length, (free = []));
    if (free.length < POOLED_PER_LENGTH && !free.includes(array)) free.push(array);
  }

  runChunked(task: string, payload: object, rows: number): Promise<void> {
    const chunks = Math.ceil(rows / CHUNK_ROWS);
    const slot = this.slotFor();
    if (slot === undefined || chunks === 0) {
      // No thread to share with: the whole job here, now.
      for (let k = 0; k < chunks; k++) runScoringTask(task, payload, ...rangeOf(rows, k));
      return Promise.resolve();
    }
    const id = this.nextId++;
    const claims = sharedInt32(chunks);
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => void this.fail(slot), PATIENCE_MS);
      const job: Job = { id, task, payload, rows, claims, slot, resolve, reject, timer, settled: false };
      slot.jobs.push(job);
      this.open.push(job);
      // A thread with work keeps the process alive; an idle one does not.
      slot.worker.ref();
      try {
        slot.worker.postMessage({ id, task, payload, rows, claims } satisfies JobMessage);
      } catch {
        // A payload that cannot be posted: the job is done here, as a failed thread's are.
        void this.fail(slot);
      }
    });
  }

  /** The id the next job will get: jobs posted so far are those below it. */
  mark(): number {
    return this.nextId;
  }

  /**
   * Does, on this thread, the ranges no thread has taken yet of the jobs posted before `mark`,
   * from the last range back (the threads work from the first). Returns when none is left; jobs
   * whose last ranges a thread is still doing settle when it answers.
   */
  helpUntil(mark: number): void {
    for (const job of [...this.open]) {
      if (job.id >= mark) break;
      if (job.settled) continue;
      const chunks = job.claims.length;
      try {
        for (let k = chunks - 1; k >= 0; k--) {
          if (Atomics.compareExchange(job.claims, k, FREE, DONE_HERE) !== FREE) continue;
          runScoringTask(job.task, job.payload, ...rangeOf(job.rows, k));
        }
      } catch (error) {
        this.finish(job, error as Error);
        continue;
      }
      if (this.complete(job)) this.finish(job);
    }
  }

  /**
   * Ends every thread; jobs still open (a scan that failed) reject. A lease (see lease) leaves
   * the threads running for the next one and lets go of the arrays kept for reuse once no lease
   * is open: the next scan's batches may have other sizes.
   */
  async close(): Promise<void> {
    if (this.kept) {
      if (this.leases > 0 && --this.leases === 0) this.pool.clear();
      return;
    }
    this.closed = true;
    this.pool.clear();
    for (const slot of this.slots.splice(0)) {
      slot.dead = true;
      for (const job of [...slot.jobs]) this.finish(job, new Error('scoring threads closed'));
      await slot.worker.terminate().catch(() => undefined);
    }
  }

  /** The live thread with the fewest open jobs, starting a new one while there are fewer than `size`. */
  private slotFor(): Slot | undefined {
    if (this.closed) return undefined;
    let best: Slot | undefined;
    for (const slot of this.slots) if (!slot.dead && (best === undefined || slot.jobs.length < best.jobs.length)) best = slot;
    if ((best === undefined || best.jobs.length > 0) && this.slots.length < this.size) return this.start() ?? best;
    return best;
  }

  private start(): Slot | undefined {
    let worker: Worker;
    try {
      worker = new Worker(this.script);
    } catch {
      return undefined;
    }
    const slot: Slot = { worker, jobs: [], dead: false };
    this.slots.push(slot);
    worker.on('message', (reply: JobReply) => {
      const job = slot.jobs.find((j) => j.id === reply.id);
      if (job === undefined || job.settled) return;
      if (reply.error !== undefined) this.finish(job, new Error(reply.error));
      else if (this.complete(job)) this.finish(job);
      else void this.fail(slot);
    });
    worker.on('error', () => void this.fail(slot));
    worker.on('exit', () => void this.fail(slot));
    // After the listeners: adding a 'message' listener refs the worker's port again, and a
    // thread started but never given work kept the process from exiting.
    worker.unref();
    return slot;
  }

  private complete(job: Job): boolean {
    for (let k = 0; k < job.claims.length; k++) {
      const claim = Atomics.load(job.claims, k);
      if (claim !== DONE_HERE && claim !== DONE_THERE) return false;
    }
    return true;
  }

  private finish(job: Job, error?: Error): void {
    if (job.settled) return;
    job.settled = true;
    clearTimeout(job.timer);
    const slot = job.slot;
    slot.jobs.splice(slot.jobs.indexOf(job), 1);
    this.open.splice(this.open.indexOf(job), 1);
    if (slot.jobs.length === 0 && !slot.dead) slot.worker.unref();
    if (error === undefined) job.resolve();
    else job.reject(error);
  }

  /**
   * Ends a thread and does here what it left of its jobs. A range it had taken may be half
   * written, so the thread is stopped before that range is done again.
   */
  private async fail(slot: Slot): Promise<void> {
    if (slot.dead) return;
    slot.dead = true;
    await slot.worker.terminate().catch(() => undefined);
    for (const job of [...slot.jobs]) {
      try {
        for (let k = 0; k < job.claims.length; k++) {
          const claim = Atomics.load(job.claims, k);
          if (claim === DONE_HERE || claim === DONE_THERE) continue;
          Atomics.store(job.claims, k, DONE_HERE);
          runScoringTask(job.task, job.payload, ...rangeOf(job.rows, k));
        }
        this.finish(job);
      } catch (error) {
        this.finish(job, error as Error);
      }
    }
  }
}
