// From a scan request to a job id and to the pipeline's ScanOptions. The job id is a digest of
// the input, contract and model bytes and of every option that changes the outputs, so the same
// work enqueued twice is one job.
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InputError } from '../core/errors.js';
import { loadContract, type LoadedContract } from '../contract/load.js';
import { hashFile } from '../io/file-hash.js';
import { canonicalJson } from '../provenance/canonical-json.js';
import { isRedisMemory } from '../provenance/replay-memory.js';
import { defaultAuditLog } from '../pipeline/audit-path.js';
import type { FittedModel } from '../pipeline/fit.js';
import { DEFAULT_SEED, type ScanOptions } from '../pipeline/scan.js';
import type { ExpectedHashes, ScanRequest } from './jobs.js';

/** A request with every path made absolute against `cwd`. */
export function absoluteRequest(request: ScanRequest, cwd = process.cwd()): ScanRequest {
  const at = (path: string | undefined) => (path === undefined ? undefined : resolve(cwd, path));
  return withoutUndefined({
    ...request,
    input: resolve(cwd, request.input),
    contract: resolve(cwd, request.contract),
    outDir: resolve(cwd, request.outDir),
    modelPath: at(request.modelPath),
    manifest: at(request.manifest),
    baseline: at(request.baseline),
    // A store in Redis is a name, not a path.
    memory: request.memory !== undefined && isRedisMemory(request.memory) ? request.memory : at(request.memory),
    auditLog: request.auditLog === null ? null : at(request.auditLog),
  });
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

async function hashOf(path: string, subject: string): Promise<string> {
  try {
    return (await hashFile(path)).sha256;
  } catch (error) {
    throw new InputError(`cannot read ${subject}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`, { subject: path, cause: error });
  }
}

/** sha256 of the input, contract and model files (InputError when one cannot be read). */
export async function hashRequestFiles(request: ScanRequest): Promise<ExpectedHashes> {
  const [input, contract, model] = await Promise.all([
    hashOf(request.input, 'dataset'),
    hashOf(request.contract, 'contract'),
    request.modelPath ? hashOf(request.modelPath, 'model') : Promise.resolve(null),
  ]);
  return { input, contract, model };
}

/**
 * `scan-` and 40 hex digits of sha256 over the files' hashes and the options that change what a
 * scan writes: seed (default applied), checks (as a set), baseline, fit sample size, out dir,
 * format, scores, manifest, replay memory and audit log. Batch size and webhook do not change outputs.
 */
export async function scanJobId(request: ScanRequest, hashes: ExpectedHashes): Promise<string> {
  const optionalFile = async (path: string | undefined, subject: string) => {
    if (!path) return null;
    const info = await stat(path).catch(() => null);
    return info?.isFile() ? hashOf(path, subject) : null;
  };
  const key = canonicalJson({
    version: 1,
    input: hashes.input,
    contract: hashes.contract,
    model: hashes.model,
    manifest: request.manifest ?? null,
    manifestSha256: await optionalFile(request.manifest, 'manifest'),
    baseline: request.baseline ?? null,
    baselineSha256: await optionalFile(request.baseline, 'baseline'),
    fitRows: request.fitRows ?? null,
    seed: request.seed ?? DEFAULT_SEED,
    checks: request.checks ? [...new Set(request.checks)].sort() : null,
    outDir: request.outDir,
    format: request.format ?? null,
    emitScores: request.emitScores === true,
    memory: request.memory ?? null,
    auditLog: request.auditLog === undefined ? 'default' : request.auditLog,
  });
  return `scan-${createHash('sha256').update(key).digest('hex').slice(0, 40)}`;
}

/**
 * The audit log a request writes to: its own, none, or as `scan` decides it: the contract's
 * provenance.auditLog, else DATAWARDEN_AUDIT_LOG (the worker's), else audit.jsonl beside the out dir.
 */
export function auditLogFor(request: ScanRequest, outDir: string, contract: LoadedContract, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (request.auditLog === null) return undefined;
  return request.auditLog ?? defaultAuditLog(outDir, contract, env);
}

export interface OutDirContext {
  readonly jobId: string;
  /** The time the job was due (epoch ms). */
  readonly at: number;
  readonly name?: string;
  readonly timezone?: string;
}

/** Fills {name}, {date} (YYYY-MM-DD), {time} (HHmmss, both in the time zone) and {jobId}. */
export function resolveOutDir(template: string, context: OutDirContext): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone: context.timezone ?? 'UTC',
      year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
    }).formatToParts(new Date(context.at)).map((p) => [p.type, p.value]),
  );
  const values: Record<string, string> = {
    name: context.name ?? 'scan',
    date: `${parts.year}-${parts.month}-${parts.day}`,
    time: `${parts.hour}${parts.minute}${parts.second}`,
    jobId: context.jobId.replaceAll(':', '_'),
  };
  return template.replace(/\{(name|date|time|jobId)\}/g, (_, key: string) => values[key]!);
}

/** The pipeline's options for a request, with the contract loaded. */
export async function scanOptionsFor(
  request: ScanRequest,
  outDir: string,
  extra: { contract?: LoadedContract; model?: FittedModel; onProgress?: ScanOptions['onProgress']; expectedSha256?: string } = {},
): Promise<ScanOptions> {
  const contract = extra.contract ?? (await loadContract(request.contract));
  const options: ScanOptions = {
    input: request.input,
    contract,
    outDir,
    format: request.format,
    checks: request.checks,
    seed: request.seed,
    batchRows: request.batchRows,
    manifest: request.manifest,
    memory: request.memory,
    auditLog: auditLogFor(request, outDir, contract),
    model: extra.model,
    modelPath: request.modelPath,
    baseline: request.baseline,
    fitRows: request.fitRows,
    emitScores: request.emitScores,
    onProgress: extra.onProgress,
    expectedSha256: extra.expectedSha256,
  };
  return withoutUndefined(options);
}
