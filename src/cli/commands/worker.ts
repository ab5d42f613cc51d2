import { parseInteger, parseSplit } from '../../queue/settings.js';
import { stringOption, type Command, type OptionValues } from '../command.js';
import { QUEUE_OPTIONS, queueConnection } from './enqueue.js';

function integer(values: OptionValues, name: string, min: number): number | undefined {
  const text = stringOption(values, name);
  return text === undefined ? undefined : parseInteger(text, `--${name}`, min);
}

export const workerCommand: Command = {
  name: 'worker',
  summary: 'Run queued scans until stopped (SIGTERM finishes the active jobs first)',
  usage: 'worker [--concurrency N] [options]',
  positionals: [0, 0],
  options: {
    concurrency: { type: 'string', help: 'jobs run at once, each in its own process (default: DATAWARDEN_QUEUE_CONCURRENCY, else 1)' },
    'lock-duration': { type: 'string', help: "ms without a lock renewal before another worker takes over this worker's job (default: DATAWARDEN_QUEUE_LOCK_MS, else 30000)" },
    'range-rows': { type: 'string', help: 'rows per range job when a Parquet dataset is split (default: DATAWARDEN_QUEUE_RANGE_ROWS, else 500000)' },
    split: { type: 'string', help: 'split Parquet datasets into range jobs: auto (for detector scans when the queue is otherwise idle and another slot is free), always or never (default: DATAWARDEN_QUEUE_SPLIT, else auto)' },
    heartbeat: { type: 'string', help: 'touch this file every 10 s while Redis answers (for container health checks)' },
    ...QUEUE_OPTIONS,
  },
  details: `Redis is REDIS_URL (redis:// or rediss://, with a password if needed). A first SIGTERM or
SIGINT lets the active jobs finish and then exits 0; a second one exits at once (the jobs are
picked up again by another worker once their locks expire).`,
  async run(_positionals, values, { log }) {
    const { startWorker } = await import('../../queue/worker.js');
    const worker = await startWorker({
      connection: queueConnection(values),
      concurrency: integer(values, 'concurrency', 1),
      lockDurationMs: integer(values, 'lock-duration', 500),
      rangeRows: integer(values, 'range-rows', 1),
      split: stringOption(values, 'split') === undefined ? undefined : parseSplit(stringOption(values, 'split')!, '--split'),
      heartbeatFile: stringOption(values, 'heartbeat'),
      log,
    });
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    });
    log.info({ signal }, 'finishing the active jobs, then exiting');
    const again = () => {
      log.warn('second signal: exiting now');
      process.exit(3);
    };
    process.once('SIGTERM', again);
    process.once('SIGINT', again);
    await worker.close();
    log.info('worker stopped');
    // Anything still holding the event loop open is not ours to wait for.
    setTimeout(() => process.exit(0), 2000).unref();
    return 0;
  },
};
