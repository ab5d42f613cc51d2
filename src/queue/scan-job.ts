// The two processors. A dataset job ("scan") either scans its dataset itself, as `datawarden
// scan` does, or (when splitting pays, see SplitMode) plans the scan once (hash, provenance,
// checks, model), adds one range job per row range as its children, and runs again when they
// have finished, to fold their results into one clean/quarantine pair and report.
//
// Every step is safe to run again: a worker killed mid-job hands the job to another worker, which
// starts it over. Outputs are renamed into place whole, range results likewise, and a rerun that
// finds this job's report already written and audited returns it instead of writing it twice.
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { WaitingChildrenError, type FlowJob, type FlowProducer, type JobsOptions } from 'bullmq';
import type { Logger } from 'pino';
import { InputError } from '../core/errors.js';
import type { DatasetFinding } from '../core/types.js';
import { selectChecks } from '../checks/index.js';
import { loadContract } from '../contract/load.js';
import { hashFile } from '../io/file-hash.js';
import { writeFileAtomic } from '../io/atomic.js';
import { loadModel } from '../pipeline/fit.js';
import { checkRange, completeScan, planScan, scan, sha256Of, type RangeResult, type ScanOptions, type ScanPlan, type ScanResult } from '../pipeline/scan.js';
import type { Report } from '../pipeline/report.js';
import { RANGE_JOB, type ExpectedHashes, type FanOut, type RangeJobData, type RangeJobResult, type ScanJobData, type ScanRequest, type ScanSummary } from './jobs.js';
import { planRanges } from './ranges.js';
import { rangeResultPath, rangeResultsDir, readRangeResult, removeRangeResults, writeRangeResult } from './range-results.js';
import { auditLogFor, resolveOutDir, scanOptionsFor } from './request.js';
import { bullmqKeep, type JobSettings } from './settings.js';
import { postWebhook } from './webhook.js';

/** What the processors use of a BullMQ job (a Job in process, a SandboxedJob in a forked worker). */
export interface QueueJob<T> {
  readonly id?: string;
  readonly name: string;
  readonly data: T;
  readonly timestamp: number;
  readonly delay?: number;
  readonly opts: Pick<JobsOptions, 'prevMillis' | 'attempts' | 'backoff' | 'removeOnFail'>;
  readonly queueQualifiedName: string;
  updateData(data: T): Promise<void>;
  updateProgress(progress: number): Promise<void>;
  moveToWaitingChildren(token?: string): Promise<boolean>;
  getChildrenValues<C = unknown>(): Promise<Record<string, C>>;
}

export interface ProcessorContext {
  readonly flows: () => FlowProducer;
  /** Whether to split now (see SplitMode); `worthIt` when the checks cost more than reading the input twice. */
  shouldSplit(worthIt: boolean): Promise<boolean>;
  readonly rangeRows: number;
  readonly jobSettings: JobSettings;
  readonly log: Logger;
}

/** Fan-outs one run of a dataset job may start before it gives up (a round restarts only when range results are missing). */
const MAX_ROUNDS_PER_RUN = 3;

/** Progress updates cross a process boundary and a Redis round trip: at most a few per second. */
function throttledProgress(job: QueueJob<unknown>): (rows: number) => void {
  let last = 0;
  return (rows) => {
    const now = Date.now();
    if (now - last < 500) return;
    last = now;
    job.updateProgress(rows).catch(() => undefined);
  };
}

/** Range ids are derived from the dataset job's, so adding them again is a no-op. */
function rangeJobId(jobId: string, round: number, index: number): string {
  return `${jobId.replace(/[^A-Za-z0-9._-]/g, '_')}-r${round}-${index}`;
}

/** What a dataset job settled once and hands to its range jobs and to its own completion. */
interface Handoff {
  readonly sha256: string;
  readonly findings: readonly DatasetFinding[];
  readonly model?: FanOut['model'];
  readonly bytes?: number;
  readonly startedAt?: number;
}

/**
 * The plan of a range job (or of the completion): the input is not hashed again, provenance is
 * not verified again (its findings come from the dataset job), and the model is the one the
 * dataset job resolved, never refitted.
 */
async function handedOverPlan(request: ScanRequest, outDir: string, handoff: Handoff, onProgress?: ScanOptions['onProgress']): Promise<ScanPlan> {
  const contract = await loadContract(request.contract);
  const model = handoff.model ? await loadModel(handoff.model.path) : undefined;
  if (model && model.sha256 !== handoff.model!.sha256) throw new Error(`the saved model ${handoff.model!.path} changed during the scan`);
  const options = await scanOptionsFor(request, outDir, { contract, model, onProgress });
  return planScan(options, {
    sha256: handoff.sha256,
    bytes: handoff.bytes,
    findings: handoff.findings,
    // The report says where the model came from, as an in-process scan's would.
    ...(handoff.model ? { modelSource: handoff.model.source } : {}),
    startedAtEpochMs: handoff.startedAt,
  });
}

function dueTime(job: QueueJob<unknown>): number {
  return job.opts.prevMillis ?? job.timestamp + (job.delay ?? 0);
}

/** Refuses files that changed since the job was enqueued; an input not given is left to the scan (expectedSha256). */
async function checkExpected(expected: ExpectedHashes | undefined, actual: { input?: string; contract: string }, request: ScanRequest): Promise<void> {
  if (!expected) return;
  const changed = (what: string, path: string) =>
    new InputError(`the ${what} changed after the scan was enqueued (its sha256 differs); enqueue it again`, { subject: path });
  if (actual.input !== undefined && actual.input !== expected.input) throw changed('dataset', request.input);
  if (actual.contract !== expected.contract) throw changed('contract', request.contract);
  if (request.modelPath) {
    const model = (await hashFile(request.modelPath).catch(() => ({ sha256: null }))).sha256;
    if (model !== expected.model) throw changed('model', request.modelPath);
  }
}

export async function processScanJob(job: QueueJob<ScanJobData>, token: string | undefined, context: ProcessorContext): Promise<ScanSummary> {
  const jobId = job.id!;
  let data = job.data;
  const update = async (next: ScanJobData) => {
    data = next;
    await job.updateData(next);
  };
  const { request } = data;
  for (let roundsThisRun = 0; ; ) {
    let fanOut = data.fanOut;
    if (!fanOut) {
      const outDir = resolveOutDir(request.outDir, { jobId, at: dueTime(job), name: request.schedule?.name, timezone: request.schedule?.timezone });
      // Range jobs check in parallel, then the completion reads the whole input again to route
      // rows: that pays off when the checks are the expensive part (detectors), or when an
      // in-process scan may read twice anyway (a check that flags at the end).
      const worthIt = selectChecks(request.checks).some((d) => d.meta.needsModel === true || d.meta.flagsAtEnd === true);
      // Scores are one file in row order: a scan that writes them is not split.
      const split = !request.emitScores && (await context.shouldSplit(worthIt));
      const ranges = split ? await planRanges(request.input, context.rangeRows) : null;
      if (!ranges) return scanInOneJob(job, data, update, outDir, context);
      // Round numbers are never reused: range job ids carry them, and an old id would not run again.
      const round = (data.rounds ?? 0) + 1;
      if (++roundsThisRun > MAX_ROUNDS_PER_RUN) throw new Error(`range results still missing after ${MAX_ROUNDS_PER_RUN} fan-outs`);
      const startedAt = Date.now();
      const contract = await loadContract(request.contract);
      const options = await scanOptionsFor(request, outDir, { contract });
      const plan = await planScan(options);
      const { sha256, bytes } = await plan.hashing;
      await checkExpected(data.expected, { input: sha256, contract: contract.sha256 }, request);
      let model: FanOut['model'];
      if (plan.model) {
        // Loaded or fitted once here; every range job applies these exact bytes.
        const path = join(rangeResultsDir(outDir, jobId), `round${round}-model.json`);
        await mkdir(rangeResultsDir(outDir, jobId), { recursive: true });
        await writeFileAtomic(path, plan.model.text);
        model = { path, sha256: plan.model.sha256, source: plan.modelSource ?? 'given' };
      }
      fanOut = {
        round, outDir, ranges, startedAt, added: false, model,
        sha256, bytes, findings: plan.findings,
      };
      await update({ ...data, rounds: round, fanOut });
      await job.updateProgress(0);
    }
    if (!fanOut.added) {
      await addRangeJobs(job, jobId, data.request, fanOut, context);
      fanOut = { ...fanOut, added: true };
      await update({ ...data, fanOut });
    }
    if (fanOut.completingAt === undefined && (await job.moveToWaitingChildren(token))) {
      // Runs again once every range job has finished.
      throw new WaitingChildrenError();
    }
    if (fanOut.completingAt !== undefined) {
      // A rerun of the completion: it may have finished (and removed the range results) already.
      const auditLog = auditLogFor(request, fanOut.outDir, await loadContract(request.contract));
      const done = await alreadyCompleted(fanOut.outDir, fanOut.completingAt, fanOut.sha256, auditLog);
      if (done) {
        await removeRangeResults(fanOut.outDir, jobId);
        return finish(job, request, done, fanOut.ranges.length, context);
      }
    }
    const results = await rangeResultsOf(job, fanOut);
    if (!results) {
      // A retried job whose range jobs failed, or results lost: fan out again.
      context.log.warn({ jobId, round: fanOut.round }, 'range results missing; fanning out again');
      const { fanOut: _missing, ...rest } = data;
      await update(rest);
      continue;
    }
    return completeFanOut(job, data, update, fanOut, results, context);
  }
}

async function addRangeJobs(job: QueueJob<ScanJobData>, jobId: string, request: ScanRequest, fanOut: FanOut, context: ProcessorContext): Promise<void> {
  const { jobSettings } = context;
  const flows: FlowJob[] = fanOut.ranges.map((range, index) => {
    const data: RangeJobData = {
      request, outDir: fanOut.outDir, round: fanOut.round, index, range, sha256: fanOut.sha256, findings: fanOut.findings, model: fanOut.model,
      resultPath: rangeResultPath(fanOut.outDir, jobId, fanOut.round, index),
    };
    return {
      name: RANGE_JOB,
      queueName: job.queueQualifiedName.slice(job.queueQualifiedName.indexOf(':') + 1),
      data,
      opts: {
        jobId: rangeJobId(jobId, fanOut.round, index),
        parent: { id: jobId, queue: job.queueQualifiedName },
        // A range that fails for good fails the dataset job, with no wait for the others.
        failParentOnFailure: true,
        // Retries and retention as the dataset job was given them.
        attempts: job.opts.attempts ?? jobSettings.attempts,
        backoff: job.opts.backoff ?? { type: 'exponential', delay: jobSettings.backoffMs },
        // The parent keeps each range's return value; the range job itself is not needed.
        removeOnComplete: true,
        removeOnFail: job.opts.removeOnFail ?? bullmqKeep(jobSettings.keepFailed),
      },
    };
  });
  const prefix = job.queueQualifiedName.slice(0, job.queueQualifiedName.indexOf(':'));
  await context.flows().addBulk(flows.map((flow) => ({ ...flow, prefix })));
}

/** This round's range results in row order, or null when one is missing. */
async function rangeResultsOf(job: QueueJob<ScanJobData>, fanOut: FanOut): Promise<RangeResult[] | null> {
  const values = Object.values(await job.getChildrenValues<RangeJobResult>()).filter((v) => v && v.round === fanOut.round);
  const byIndex = new Map(values.map((v) => [v.index, v]));
  const paths: string[] = [];
  for (let index = 0; index < fanOut.ranges.length; index++) {
    const value = byIndex.get(index);
    if (!value) return null;
    paths.push(value.resultPath);
  }
  try {
    return await Promise.all(paths.map((path) => readRangeResult(path)));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/**
 * The report this job already wrote, if a rerun finds one: written after this job began to
 * complete, of the same input, and (when there is an audit log) recorded in it.
 */
async function alreadyCompleted(outDir: string, since: number, sha256: string, auditLog: string | undefined): Promise<ScanResult | null> {
  const reportPath = join(outDir, 'report.json');
  let text: string;
  try {
    text = await readFile(reportPath, 'utf8');
  } catch {
    return null;
  }
  let report: Report;
  try {
    report = JSON.parse(text) as Report;
  } catch {
    return null;
  }
  if (Date.parse(report.createdAt) < since || report.input?.sha256 !== sha256) return null;
  if (auditLog) {
    const log = await readFile(auditLog, 'utf8').catch(() => '');
    if (!log.includes(`"reportSha256":"${sha256Of(text)}"`)) return null;
  }
  return { report, reportPath };
}

/**
 * Removes the temporary outputs (OutputSet's `.<name>.<pid>-<tag>.tmp`) a killed run of this job
 * left in its out dir. Only called when this job's own completion is being run again.
 */
async function removeStaleOutputs(outDir: string): Promise<void> {
  const names = await readdir(outDir).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => /^\..+\.\d+-[0-9a-f]{8}\.tmp$/.test(n)).map((n) => rm(join(outDir, n), { force: true, recursive: true })));
}

async function scanInOneJob(
  job: QueueJob<ScanJobData>,
  data: ScanJobData,
  update: (next: ScanJobData) => Promise<void>,
  outDir: string,
  context: ProcessorContext,
): Promise<ScanSummary> {
  const { request } = data;
  const contract = await loadContract(request.contract);
  if (data.completingAt !== undefined && data.completingOutDir === outDir) {
    // A worker died while completing this job: its outputs may be whole already. An unreadable
    // input is left to the scan, which says what is wrong with it.
    const input = (await hashFile(request.input).catch(() => null))?.sha256;
    const done = input && (await alreadyCompleted(outDir, data.completingAt, input, auditLogFor(request, outDir, contract)));
    if (done) return finish(job, request, done, 1, context);
    await removeStaleOutputs(outDir);
  }
  // The scan hashes the input while it reads it and refuses a changed one before committing
  // anything, so the input is not read a second time here first.
  await checkExpected(data.expected, { contract: contract.sha256 }, request);
  const options = await scanOptionsFor(request, outDir, { contract, onProgress: throttledProgress(job), expectedSha256: data.expected?.input });
  await update({ ...data, completingAt: Date.now(), completingOutDir: outDir });
  const result = await scan(options);
  await job.updateProgress(result.report.input.rows);
  return finish(job, request, result, 1, context);
}

async function completeFanOut(
  job: QueueJob<ScanJobData>,
  data: ScanJobData,
  update: (next: ScanJobData) => Promise<void>,
  fanOut: FanOut,
  results: RangeResult[],
  context: ProcessorContext,
): Promise<ScanSummary> {
  const { request } = data;
  const { outDir } = fanOut;
  // A killed completion left its temporary outputs behind.
  if (fanOut.completingAt !== undefined) await removeStaleOutputs(outDir);
  const plan = await handedOverPlan(request, outDir, fanOut);
  await update({ ...data, fanOut: { ...fanOut, completingAt: Date.now() } });
  const result = await completeScan(plan, results);
  await job.updateProgress(result.report.input.rows);
  await removeRangeResults(outDir, job.id!);
  return finish(job, request, result, fanOut.ranges.length, context);
}

export function summaryOf(jobId: string, request: ScanRequest, { report, reportPath }: ScanResult, ranges: number): ScanSummary {
  return {
    event: 'scan.completed',
    jobId,
    schedule: request.schedule?.name ?? null,
    verdict: report.verdict,
    exitCode: report.exitCode,
    verdictReasons: report.verdictReasons,
    rows: report.input.rows,
    clean: report.clean.rows,
    quarantined: report.quarantine.rows,
    quarantineFraction: report.quarantine.fraction,
    input: { path: report.input.path, sha256: report.input.sha256 },
    contract: { name: report.contract.name, sha256: report.contract.sha256 },
    outDir: join(reportPath, '..'),
    report: reportPath,
    ranges,
    finishedAt: new Date().toISOString(),
  };
}

async function finish(job: QueueJob<ScanJobData>, request: ScanRequest, result: ScanResult, ranges: number, context: ProcessorContext): Promise<ScanSummary> {
  const summary = summaryOf(job.id!, request, result, ranges);
  if (!request.webhook) return summary;
  const webhook = await postWebhook(request.webhook, summary);
  if (!webhook.delivered) context.log.warn({ jobId: job.id, webhook: webhook.url, error: webhook.error, attempts: webhook.attempts }, 'webhook not delivered');
  return { ...summary, webhook };
}

export async function processRangeJob(job: QueueJob<RangeJobData>): Promise<RangeJobResult> {
  const { request, outDir, range, round, index, resultPath } = job.data;
  const plan = await handedOverPlan(request, outDir, job.data, throttledProgress(job));
  const result = await checkRange(plan, range);
  await writeRangeResult(resultPath, result);
  await job.updateProgress(result.rows);
  return { round, index, range, rows: result.rows, quarantined: result.quarantineRows.length, resultPath };
}
