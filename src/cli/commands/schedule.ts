import { setTimeout as sleep } from 'node:timers/promises';
import { firstLine } from '../../core/errors.js';
import type { SyncResult } from '../../queue/schedules.js';
import { parseInteger } from '../../queue/settings.js';
import { stringOption, type Command } from '../command.js';
import { QUEUE_OPTIONS, queueConnection } from './enqueue.js';

function describeSync(result: SyncResult): string {
  const part = (label: string, names: readonly string[]) => (names.length > 0 ? [`${label}: ${names.join(', ')}`] : []);
  const lines = [
    ...part('added', result.added),
    ...part('updated', result.updated),
    ...part('unchanged', result.unchanged),
    ...part('removed', result.removed),
  ];
  return `${lines.length > 0 ? lines.join('\n') : 'no schedules'}\n`;
}

export const scheduleSyncCommand: Command = {
  name: 'schedule sync',
  summary: 'Make the queue\'s schedules match jobs/*.json (add, update, remove)',
  usage: 'schedule sync [--dir jobs] [--watch]',
  positionals: [0, 0],
  options: {
    dir: { type: 'string', help: 'folder of job files (default jobs)', default: 'jobs' },
    watch: { type: 'boolean', help: 'keep running and sync again every --interval seconds (for a scheduler container)' },
    interval: { type: 'string', help: 'seconds between syncs with --watch (default 60)', default: '60' },
    json: { type: 'boolean', help: 'print what changed as JSON' },
    ...QUEUE_OPTIONS,
  },
  details: `Each file is validated against schemas/job.schema.json; an error names the file and the
field, and nothing is removed until every file is valid. Relative paths in job files are resolved
against the current directory. With --watch, an invalid file is reported and the sync retried.`,
  async run(_positionals, values, { log, stdout }) {
    const dir = stringOption(values, 'dir')!;
    const { ScanQueue } = await import('../../queue/client.js');
    const { syncSchedules } = await import('../../queue/schedules.js');
    const queue = new ScanQueue({ connection: queueConnection(values) });
    const print = (result: SyncResult) => stdout.write(values.json ? `${JSON.stringify(result)}\n` : describeSync(result));
    try {
      if (!values.watch) {
        print(await syncSchedules(queue, dir));
        return 0;
      }
      const intervalMs = parseInteger(stringOption(values, 'interval')!, '--interval', 1) * 1000;
      let stopping = false;
      const stop = () => (stopping = true);
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      while (!stopping) {
        try {
          const result = await syncSchedules(queue, dir);
          if (result.added.length + result.updated.length + result.removed.length > 0) print(result);
          log.info(result, 'schedules synced');
        } catch (error) {
          log.error({ error: firstLine(error) }, 'schedule sync failed');
          process.stderr.write(`datawarden schedule sync: ${firstLine(error)}\n`);
        }
        const deadline = Date.now() + intervalMs;
        while (!stopping && Date.now() < deadline) await sleep(Math.min(500, deadline - Date.now()));
      }
      return 0;
    } finally {
      await queue.close();
    }
  },
};

export const scheduleListCommand: Command = {
  name: 'schedule list',
  summary: 'List the queue\'s schedules with their next run',
  usage: 'schedule list [--json]',
  positionals: [0, 0],
  options: {
    json: { type: 'boolean', help: 'print the schedules as JSON' },
    ...QUEUE_OPTIONS,
  },
  async run(_positionals, values, { stdout }) {
    const { ScanQueue } = await import('../../queue/client.js');
    const { listSchedules } = await import('../../queue/schedules.js');
    const queue = new ScanQueue({ connection: queueConnection(values) });
    try {
      const schedules = await listSchedules(queue);
      if (values.json) {
        stdout.write(`${JSON.stringify(schedules, null, 2)}\n`);
        return 0;
      }
      if (schedules.length === 0) {
        stdout.write('no schedules\n');
        return 0;
      }
      const rows = schedules.map((s) => [s.name, s.cron ?? '', s.timezone ?? '', s.next ?? '', s.dataset ?? '', s.out ?? '']);
      const header = ['name', 'cron', 'timezone', 'next run', 'dataset', 'out'];
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
      stdout.write(`${[line(header), ...rows.map(line)].join('\n')}\n`);
      return 0;
    } finally {
      await queue.close();
    }
  },
};
