import { readFile } from 'node:fs/promises';
import { parseFormat } from '../../io/formats.js';
import type { Report } from '../../pipeline/report.js';
import type { ScanJobStatus } from '../../queue/client.js';
import type { ScanRequest, ScanSummary } from '../../queue/jobs.js';
import { parseInteger, parseKeep } from '../../queue/settings.js';
import { numberOption, stringOption, UsageError, type Command, type OptionSpec, type OptionValues } from '../command.js';
import { createProgress } from '../progress.js';
import { scanCommand } from './scan.js';

/** Options every queue command takes. */
export const QUEUE_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  prefix: { type: 'string', help: 'Redis key prefix of the queue (default: DATAWARDEN_QUEUE_PREFIX, else datawarden); Redis itself is REDIS_URL' },
};

export function queueConnection(values: OptionValues) {
  const prefix = stringOption(values, 'prefix');
  return prefix === undefined ? {} : { prefix };
}

/** The scan's summary as `scan` prints it, from its report.json when this machine can read it. */
export async function printSummary(stdout: NodeJS.WritableStream, summary: ScanSummary): Promise<void> {
  const report = await readFile(summary.report, 'utf8').then((text) => JSON.parse(text) as Report, () => null);
  const lines = [
    `${summary.verdict.toUpperCase()}: ${summary.quarantined} of ${summary.rows} rows quarantined ` +
      `(${(summary.quarantineFraction * 100).toFixed(2)}%) against contract ${summary.contract.name}`,
    ...(report
      ? [
          ...report.checks.filter((c) => c.flaggedRows > 0).map((c) => `  ${c.id}: ${c.flaggedRows} rows`),
          ...report.findings.map((f) => `  ${f.severity}: ${f.code}: ${f.message}`),
        ]
      : []),
    `report: ${summary.report}`,
  ];
  if (summary.webhook && !summary.webhook.delivered) lines.push(`webhook not delivered: ${summary.webhook.url}: ${summary.webhook.error ?? 'failed'}`);
  stdout.write(`${lines.join('\n')}\n`);
}

/** Why a failed job failed, one line per reason. */
export function failureLines(status: ScanJobStatus): string[] {
  return [`job ${status.id} failed: ${status.failedReason ?? 'unknown reason'}`, ...status.failedRanges.map((r) => `  range ${r}`)];
}

function requestOf(input: string, values: OptionValues): ScanRequest {
  const contract = stringOption(values, 'contract');
  const outDir = stringOption(values, 'out');
  if (!contract) throw new UsageError('--contract is required');
  if (!outDir) throw new UsageError('--out is required');
  if (values.model && values.baseline) throw new UsageError('give --model or --baseline, not both');
  const format = stringOption(values, 'format');
  const checks = stringOption(values, 'checks')?.split(',').map((s) => s.trim()).filter(Boolean);
  const request: ScanRequest = {
    input,
    contract,
    outDir,
    modelPath: stringOption(values, 'model'),
    manifest: stringOption(values, 'manifest'),
    format: format ? parseFormat(format) : undefined,
    checks,
    seed: numberOption(values, 'seed'),
    batchRows: numberOption(values, 'batch-rows'),
    baseline: stringOption(values, 'baseline'),
    fitRows: numberOption(values, 'fit-rows'),
    emitScores: values['emit-scores'] === true ? true : undefined,
    memory: stringOption(values, 'memory'),
    auditLog: values['no-audit'] ? null : stringOption(values, 'audit-log'),
    webhook: stringOption(values, 'webhook'),
  };
  return Object.fromEntries(Object.entries(request).filter(([, v]) => v !== undefined)) as ScanRequest;
}

export const enqueueCommand: Command = {
  name: 'enqueue',
  summary: 'Put a scan on the queue for the workers; with --wait, wait and exit with its verdict',
  usage: 'enqueue <dataset> --contract FILE --out DIR [--model FILE] [--manifest FILE] [--wait] [options]',
  positionals: [1, 1],
  options: {
    ...scanCommand.options,
    json: { type: 'boolean', help: 'print the job as JSON (with --wait: its final status, summary included)' },
    wait: { type: 'boolean', help: "wait for the scan, print its summary and exit with its code (0 pass, 1 warn, 2 fail, 3 error)" },
    rerun: { type: 'boolean', help: 'replace a finished job of the same work with a new one (default: return it)' },
    webhook: { type: 'string', help: 'POST the summary here when the scan completes (signed with DATAWARDEN_WEBHOOK_SECRET)' },
    'keep-completed': { type: 'string', help: 'completed jobs Redis keeps: a count (1000), an age (7d) or both (1000,7d) (default: DATAWARDEN_QUEUE_KEEP_COMPLETED, else 1000,7d)' },
    'keep-failed': { type: 'string', help: 'failed jobs Redis keeps, as --keep-completed (default: DATAWARDEN_QUEUE_KEEP_FAILED, else 5000,30d)' },
    attempts: { type: 'string', help: 'attempts for I/O errors, with exponential backoff (default: DATAWARDEN_QUEUE_ATTEMPTS, else 5)' },
    ...QUEUE_OPTIONS,
  },
  details: `Prints the job id. Relative paths are resolved here; workers must see the same paths.
The job id is a digest of the dataset, contract and model bytes and of the options that change
outputs, so enqueueing the same work again returns the existing job (a failed one is retried).
Without --wait the exit code is 0 once the job is on the queue, 3 if it could not be enqueued.`,
  async run([input], values, { log, stdout, stderr }) {
    const request = requestOf(input!, values);
    const keepCompleted = stringOption(values, 'keep-completed');
    const keepFailed = stringOption(values, 'keep-failed');
    const attempts = stringOption(values, 'attempts');
    // Loaded here, not at the top: the queue libraries would slow every other command's start.
    const { exitCodeOf, ScanQueue } = await import('../../queue/client.js');
    const queue = new ScanQueue({
      connection: queueConnection(values),
      jobs: {
        ...(keepCompleted ? { keepCompleted: parseKeep(keepCompleted, '--keep-completed') } : {}),
        ...(keepFailed ? { keepFailed: parseKeep(keepFailed, '--keep-failed') } : {}),
        ...(attempts ? { attempts: parseInteger(attempts, '--attempts', 1) } : {}),
      },
    });
    try {
      const enqueued = await queue.enqueue(request, { rerun: values.rerun === true });
      log.info({ jobId: enqueued.id, existing: enqueued.existing, state: enqueued.state }, 'enqueued');
      if (!values.wait) {
        if (values.json) stdout.write(`${JSON.stringify(enqueued)}\n`);
        else {
          stdout.write(`${enqueued.id}\n`);
          stderr.write(enqueued.existing ? `the same scan is already on the queue (${enqueued.state})\n` : 'enqueued\n');
        }
        return 0;
      }
      const progress = createProgress(process.stderr, 'queue');
      const status = await queue.wait(enqueued.id, { onProgress: (s) => progress.update(s.rowsDone, s.totalRows) }).finally(() => progress.done());
      if (values.json) {
        stdout.write(`${JSON.stringify(status, null, 2)}\n`);
      } else if (status.summary) {
        await printSummary(stdout, status.summary);
        stdout.write(`job: ${status.id}\n`);
      } else {
        stderr.write(`${failureLines(status).join('\n')}\n`);
      }
      return exitCodeOf(status);
    } finally {
      await queue.close();
    }
  },
};
