import { InputError } from '../../core/errors.js';
import type { Command } from '../command.js';
import { failureLines, QUEUE_OPTIONS, queueConnection } from './enqueue.js';

const count = (n: number) => n.toLocaleString('en-US');

export const statusCommand: Command = {
  name: 'status',
  summary: "Show a queued scan's state, progress in rows, verdict and out dir",
  usage: 'status <job id> [--json]',
  positionals: [1, 1],
  options: {
    json: { type: 'boolean', help: 'print the status as JSON' },
    ...QUEUE_OPTIONS,
  },
  details: 'Exit codes: 0 when the job is known (whatever its state), 3 when it is not.',
  async run([id], values, { stdout }) {
    const { ScanQueue } = await import('../../queue/client.js');
    const queue = new ScanQueue({ connection: queueConnection(values) });
    try {
      const status = await queue.status(id!);
      if (!status) throw new InputError('no such job (never enqueued, or removed by retention)', { subject: id! });
      if (values.json) {
        stdout.write(`${JSON.stringify(status, null, 2)}\n`);
        return 0;
      }
      const rows = status.totalRows === null ? `${count(status.rowsDone)} rows` : `${count(status.rowsDone)} of ${count(status.totalRows)} rows`;
      const lines = [
        `job:      ${status.id}${status.name === 'scan' ? '' : ` (${status.name})`}`,
        `state:    ${status.state}`,
        `progress: ${rows}${status.ranges ? ` (${status.ranges.done} of ${status.ranges.total} ranges)` : ''}`,
        `attempts: ${status.attemptsMade}`,
      ];
      if (status.summary) {
        lines.push(`verdict:  ${status.summary.verdict} (exit ${status.summary.exitCode}), ${count(status.summary.quarantined)} rows quarantined`);
        lines.push(`report:   ${status.summary.report}`);
        if (status.summary.webhook) lines.push(`webhook:  ${status.summary.webhook.delivered ? 'delivered' : `not delivered (${status.summary.webhook.error ?? 'failed'})`}`);
      }
      if (status.outDir) lines.push(`out:      ${status.outDir}`);
      if (status.state === 'failed') lines.push(...failureLines(status));
      stdout.write(`${lines.join('\n')}\n`);
      return 0;
    } finally {
      await queue.close();
    }
  },
};
