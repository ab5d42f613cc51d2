// Scheduled audits: each jobs/<name>.json declares one recurring scan. Syncing makes the queue's
// job schedulers match the folder: new files are added, changed ones updated in place
// (upsertJobScheduler), and schedulers whose file is gone are removed.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { firstLine, InputError, isInputError } from '../core/errors.js';
import { loadContract } from '../contract/load.js';
import { schemaError } from '../contract/json-schema.js';
import type { Format } from '../io/formats.js';
import { canonicalJson, type JsonValue } from '../provenance/canonical-json.js';
import type { ScanQueue } from './client.js';
import { SCAN_JOB, type ScanJobData, type ScanRequest } from './jobs.js';
import { absoluteRequest } from './request.js';

/** A jobs/<name>.json file, as schemas/job.schema.json describes it. */
export interface AuditJobFile {
  readonly name: string;
  readonly description?: string;
  readonly dataset: string;
  readonly contract: string;
  readonly model?: string;
  readonly cron: string;
  readonly timezone?: string;
  readonly out: string;
  readonly webhook?: string;
  readonly options?: {
    readonly checks?: readonly string[];
    readonly seed?: number;
    readonly format?: Format;
    readonly batchRows?: number;
    readonly manifest?: string;
    readonly memory?: string;
    readonly auditLog?: string | null;
    readonly baseline?: string;
    readonly fitRows?: number;
    readonly emitScores?: boolean;
  };
}

export interface AuditJob {
  /** The file it came from, as given (relative to the working directory when it was relative). */
  readonly file: string;
  readonly name: string;
  readonly cron: string;
  readonly timezone: string;
  readonly request: ScanRequest;
  /** sha256 of the definition: a scheduler is updated only when this changes. */
  readonly digest: string;
}

export const DEFAULT_TIMEZONE = 'UTC';

function fileError(file: string, message: string, cause?: unknown): InputError {
  return new InputError(message, { subject: file, cause });
}

function validTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Reads and checks one job file; errors name the file and the field. */
export async function loadAuditJob(file: string, cwd = process.cwd()): Promise<AuditJob> {
  let text: string;
  try {
    text = await readFile(resolve(cwd, file), 'utf8');
  } catch (error) {
    throw fileError(file, `cannot read (${(error as NodeJS.ErrnoException).code ?? 'error'})`, error);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw fileError(file, `not valid JSON: ${(error as Error).message}`, error);
  }
  const problem = schemaError('job.schema.json', value);
  if (problem) throw fileError(file, problem);
  const definition = value as AuditJobFile;
  if (definition.model && definition.options?.baseline) throw fileError(file, 'model: give model or options.baseline, not both');
  const timezone = definition.timezone ?? DEFAULT_TIMEZONE;
  if (!validTimeZone(timezone)) throw fileError(file, `timezone: unknown time zone '${timezone}' (use an IANA name such as Europe/Berlin)`);
  const request = absoluteRequest({
    input: definition.dataset,
    contract: definition.contract,
    outDir: definition.out,
    modelPath: definition.model,
    webhook: definition.webhook,
    schedule: { name: definition.name, timezone },
    ...definition.options,
  }, cwd);
  try {
    await loadContract(request.contract);
  } catch (error) {
    throw fileError(file, `contract: ${isInputError(error) ? firstLine(error) : String(error)}`, error);
  }
  if (request.modelPath && !(await stat(request.modelPath).then((s) => s.isFile(), () => false))) {
    throw fileError(file, `model: no such file: ${request.modelPath}`);
  }
  const digest = createHash('sha256')
    .update(canonicalJson({ cron: definition.cron, timezone, request: request as unknown as JsonValue }))
    .digest('hex');
  return { file, name: definition.name, cron: definition.cron, timezone, request, digest };
}

/** Every *.json in `dir`, in name order; names must be unique. */
export async function loadAuditJobs(dir: string, cwd = process.cwd()): Promise<AuditJob[]> {
  let names: string[];
  try {
    names = (await readdir(resolve(cwd, dir))).filter((name) => name.endsWith('.json')).sort();
  } catch (error) {
    throw new InputError(`cannot read the jobs folder (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { subject: dir, cause: error });
  }
  const jobs: AuditJob[] = [];
  const files = new Map<string, string>();
  for (const name of names) {
    const file = join(dir, name);
    const job = await loadAuditJob(file, cwd);
    const other = files.get(job.name);
    if (other) throw fileError(file, `name: '${job.name}' is already the name of ${other}`);
    files.set(job.name, file);
    jobs.push(job);
  }
  return jobs;
}

export interface SyncResult {
  readonly added: readonly string[];
  readonly updated: readonly string[];
  readonly unchanged: readonly string[];
  readonly removed: readonly string[];
}

export interface ScheduleInfo {
  readonly name: string;
  readonly cron: string | null;
  readonly timezone: string | null;
  /** The next run (ISO-8601), when known. */
  readonly next: string | null;
  readonly dataset: string | null;
  readonly out: string | null;
  readonly webhook: string | null;
  readonly file: string | null;
}

/** Makes the queue's schedulers match the job files in `dir`. */
export async function syncSchedules(queue: ScanQueue, dir: string, cwd = process.cwd()): Promise<SyncResult> {
  const jobs = await loadAuditJobs(dir, cwd);
  await queue.connect();
  const existing = new Map((await queue.queue.getJobSchedulers(0, -1, true)).map((s) => [s.key, s]));
  const result = { added: [] as string[], updated: [] as string[], unchanged: [] as string[], removed: [] as string[] };
  for (const job of jobs) {
    const current = existing.get(job.name);
    const currentData = current?.template?.data as ScanJobData | undefined;
    if (current && currentData?.definition?.digest === job.digest && current.pattern === job.cron && current.tz === job.timezone) {
      result.unchanged.push(job.name);
      continue;
    }
    const data: ScanJobData = { request: job.request, definition: { file: relative(cwd, resolve(cwd, job.file)), digest: job.digest } };
    try {
      await queue.queue.upsertJobScheduler(job.name, { pattern: job.cron, tz: job.timezone }, { name: SCAN_JOB, data, opts: queue.jobOptions() });
    } catch (error) {
      if (isInputError(error)) throw error;
      throw fileError(job.file, `cron: ${firstLine(error)}`, error);
    }
    (current ? result.updated : result.added).push(job.name);
  }
  const wanted = new Set(jobs.map((j) => j.name));
  for (const [key, scheduler] of existing) {
    // Only schedulers that came from a job file; others on the queue are someone else's.
    if (wanted.has(key) || !(scheduler.template?.data as ScanJobData | undefined)?.definition) continue;
    await queue.queue.removeJobScheduler(key);
    result.removed.push(key);
  }
  return result;
}

export async function listSchedules(queue: ScanQueue): Promise<ScheduleInfo[]> {
  await queue.connect();
  const schedulers = await queue.queue.getJobSchedulers(0, -1, true);
  return schedulers
    .map((s) => {
      const data = s.template?.data as ScanJobData | undefined;
      return {
        name: s.key,
        cron: s.pattern ?? null,
        timezone: s.tz ?? null,
        next: s.next ? new Date(s.next).toISOString() : null,
        dataset: data?.request.input ?? null,
        out: data?.request.outDir ?? null,
        webhook: data?.request.webhook ?? null,
        file: data?.definition?.file ?? null,
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}
