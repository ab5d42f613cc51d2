// The processor file BullMQ forks for each concurrent job slot (a sandboxed processor), so checks
// run on their own core and a busy scan never delays the worker's lock renewals. Settings come
// from the environment the worker passes down.
import { FlowProducer, Queue, WaitingChildrenError, type SandboxedJob } from 'bullmq';
import { pino } from 'pino';
import { createRedis } from './connection.js';
import { jobError } from './failures.js';
import { RANGE_JOB, SCAN_JOB, type RangeJobData, type ScanJobData } from './jobs.js';
import { processRangeJob, processScanJob, type ProcessorContext, type QueueJob } from './scan-job.js';
import { connectionSettings, hostOfWorker, jobSettings, QUEUE_NAME, spareCores, workerSettings } from './settings.js';

// A forked processor whose worker died (SIGKILL) must not finish the job behind the back of the
// worker that recovers it.
process.on('disconnect', () => process.exit(70));

let context: ProcessorContext | undefined;

function processorContext(): ProcessorContext {
  if (context) return context;
  const connection = connectionSettings();
  const tunables = workerSettings();
  let redis: ReturnType<typeof createRedis> | undefined;
  let flows: FlowProducer | undefined;
  let queue: Queue | undefined;
  context = {
    flows: () => (flows ??= new FlowProducer({ connection: (redis ??= createRedis(connection, 'worker')), prefix: connection.prefix })),
    async shouldSplit(worthIt) {
      if (tunables.split !== 'auto') return tunables.split === 'always';
      if (!worthIt) return false;
      queue ??= new Queue(QUEUE_NAME, { connection: (redis ??= createRedis(connection, 'worker')), prefix: connection.prefix });
      // Only this job is active and none waits, and another job slot exists to take ranges.
      const counts = await queue.getJobCounts('waiting', 'prioritized', 'active');
      if ((counts.waiting ?? 0) + (counts.prioritized ?? 0) > 0 || (counts.active ?? 0) > 1) return false;
      // Ranges pay when a worker on another machine can take some. This machine's other slots
      // share its cores, which a lone job's scoring threads already use (spareCores), unless
      // the slots leave none spare. Listing workers needs CLIENT LIST, which some hosted Redis
      // services refuse: then assume other machines. Unnamed (older) workers count as elsewhere.
      const workers = await queue.getWorkers().catch(() => null);
      if (workers === null || workers.some((w) => hostOfWorker(w.rawname) !== tunables.host)) return true;
      return tunables.concurrency > 1 && spareCores(tunables.concurrency) === 0;
    },
    rangeRows: tunables.rangeRows,
    jobSettings: jobSettings(),
    log: pino({ name: 'datawarden-worker', level: process.env.LOG_LEVEL ?? 'warn' }, pino.destination({ fd: 2, sync: true })),
  };
  return context;
}

export default async function processScanQueueJob(job: SandboxedJob, token?: string): Promise<unknown> {
  const ctx = processorContext();
  try {
    if (job.name === SCAN_JOB) return await processScanJob(job as unknown as QueueJob<ScanJobData>, token, ctx);
    if (job.name === RANGE_JOB) return await processRangeJob(job as unknown as QueueJob<RangeJobData>);
    throw new Error(`unknown job name '${job.name}'`);
  } catch (error) {
    if (error instanceof WaitingChildrenError) throw error;
    const thrown = jobError(error);
    ctx.log.warn({ jobId: job.id, job: job.name, error: thrown.message, retry: thrown.name !== 'UnrecoverableError' }, 'job failed');
    throw thrown;
  }
}
