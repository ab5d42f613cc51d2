// An append-only JSON Lines log with one record per scan. Each record carries the previous
// record's hash and its own, so an edited, removed, inserted or reordered record breaks the
// chain. Appends from concurrent processes are serialised by an exclusive lock file.
import { createHash } from 'node:crypto';
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { InputError } from '../core/errors.js';
import { canonicalJson, type JsonValue } from './canonical-json.js';
import { withFileLock, type LockOptions } from './file-lock.js';

export type AuditVerdict = 'pass' | 'warn' | 'fail' | 'error';
const VERDICTS: readonly AuditVerdict[] = ['pass', 'warn', 'fail', 'error'];

/** What the scan knows about itself; the log adds seq, time, prev and hash. */
export interface AuditEntry {
  readonly toolVersion: string;
  readonly inputSha256: string;
  readonly contractSha256: string;
  readonly modelSha256: string | null;
  readonly reportSha256: string;
  readonly verdict: AuditVerdict;
  /** Row counts, e.g. { rows, clean, quarantined }. */
  readonly counts: Readonly<Record<string, number>>;
}

export interface AuditRecord extends AuditEntry {
  /** 1 for the first record, then one more per record. */
  readonly seq: number;
  /** ISO-8601 UTC. */
  readonly time: string;
  /** The previous record's hash; null for the first. */
  readonly prev: string | null;
  /** sha256 (hex) of the canonical JSON of every other field. */
  readonly hash: string;
}

export function defaultAuditLogPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.DATAWARDEN_AUDIT_LOG || 'runs/audit.jsonl';
}

const HEX64 = /^[0-9a-f]{64}$/;

export function auditRecordHash(record: Omit<AuditRecord, 'hash'> | AuditRecord): string {
  const { hash: _ignored, ...rest } = record as AuditRecord;
  return createHash('sha256').update(canonicalJson(rest as unknown as JsonValue)).digest('hex');
}

/** Problems with a record's fields, each naming the field; empty when well-formed. */
function recordProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return ['expected a JSON object'];
  const record = value as Record<string, unknown>;
  const problems: string[] = [];
  if (!Number.isSafeInteger(record.seq) || (record.seq as number) < 1) problems.push('seq: expected a positive integer');
  if (typeof record.time !== 'string' || !Number.isFinite(Date.parse(record.time))) problems.push('time: expected an ISO-8601 time');
  if (typeof record.toolVersion !== 'string') problems.push('toolVersion: expected a string');
  for (const field of ['inputSha256', 'contractSha256', 'reportSha256', 'hash'] as const) {
    if (typeof record[field] !== 'string' || !HEX64.test(record[field] as string)) problems.push(`${field}: expected a hex sha256`);
  }
  for (const field of ['modelSha256', 'prev'] as const) {
    if (record[field] !== null && (typeof record[field] !== 'string' || !HEX64.test(record[field] as string))) problems.push(`${field}: expected a hex sha256 or null`);
  }
  if (!VERDICTS.includes(record.verdict as AuditVerdict)) problems.push(`verdict: expected one of ${VERDICTS.join(', ')}`);
  const counts = record.counts;
  if (typeof counts !== 'object' || counts === null || Array.isArray(counts)) {
    problems.push('counts: expected an object');
  } else {
    for (const [name, count] of Object.entries(counts)) {
      if (!Number.isSafeInteger(count) || (count as number) < 0) problems.push(`counts.${name}: expected a non-negative integer`);
    }
  }
  return problems;
}

/** Reads the last line of the log; null for an empty or absent log. Throws if the log ends mid-record. */
async function readLastRecord(path: string): Promise<AuditRecord | null> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    const size = (await handle.stat()).size;
    if (size === 0) return null;
    // Records are well under a kilobyte; widen the window until it holds a whole last line.
    for (let window = 4096; ; window *= 4) {
      const length = Math.min(window, size);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      const text = buffer.toString('utf8');
      if (!text.endsWith('\n')) throw new Error(`audit log ${path} ends in a partial record; run 'datawarden audit verify'`);
      const start = text.lastIndexOf('\n', text.length - 2);
      if (start === -1 && length < size) continue;
      const line = text.slice(start + 1, -1);
      let record: unknown;
      try {
        record = JSON.parse(line);
      } catch {
        record = undefined;
      }
      const problems = recordProblems(record);
      if (problems.length > 0) throw new Error(`audit log ${path}: last record is damaged (${problems[0]}); run 'datawarden audit verify'`);
      return record as AuditRecord;
    }
  } finally {
    await handle.close();
  }
}

function checkEntry(entry: AuditEntry): void {
  const problems = recordProblems({ ...entry, seq: 1, time: new Date(0).toISOString(), prev: null, hash: '0'.repeat(64) });
  if (problems.length > 0) throw new TypeError(`audit entry: ${problems.join('; ')}`);
}

export interface AppendOptions extends LockOptions {
  readonly now?: Date;
}

/**
 * Appends one record under the log's lock (`<log>.lock`): read the last record, chain to it,
 * append one line and fsync it before the lock is released.
 */
export async function appendAuditRecord(path: string, entry: AuditEntry, options: AppendOptions = {}): Promise<AuditRecord> {
  checkEntry(entry);
  await mkdir(dirname(path), { recursive: true });
  return withFileLock(`${path}.lock`, async () => {
    const last = await readLastRecord(path);
    const unhashed: Omit<AuditRecord, 'hash'> = {
      seq: last ? last.seq + 1 : 1,
      time: (options.now ?? new Date()).toISOString(),
      toolVersion: entry.toolVersion,
      inputSha256: entry.inputSha256,
      contractSha256: entry.contractSha256,
      modelSha256: entry.modelSha256,
      reportSha256: entry.reportSha256,
      verdict: entry.verdict,
      counts: { ...entry.counts },
      prev: last ? last.hash : null,
    };
    const record: AuditRecord = { ...unhashed, hash: auditRecordHash(unhashed) };
    const handle = await open(path, 'a', 0o644);
    try {
      // One write of one whole line, then fsync: the record is on disk before the next writer reads it.
      await handle.write(`${JSON.stringify(record)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return record;
  }, options);
}

export type AuditProblemKind = 'malformed' | 'edited' | 'removed' | 'inserted' | 'reordered' | 'chain';

export interface AuditVerification {
  readonly ok: boolean;
  /** Records read (all of them when ok). */
  readonly records: number;
  /** The last record's hash: publish it elsewhere to anchor the log against a wholesale rewrite. */
  readonly head: string | null;
  /** The first bad record: its 1-based line number and why. */
  readonly problem?: { readonly line: number; readonly kind: AuditProblemKind; readonly message: string };
}

type ParsedLine = { record: AuditRecord; problems: [] } | { record: null; problems: string[] };

function parseLine(line: string): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { record: null, problems: ['not JSON'] };
  }
  const problems = recordProblems(value);
  return problems.length > 0 ? { record: null, problems } : { record: value as AuditRecord, problems: [] };
}

/** Explains a record that does not follow its predecessor, looking at the whole log for the cause. */
function chainProblem(parsed: readonly ParsedLine[], index: number, expectedSeq: number): { kind: AuditProblemKind; message: string } {
  const record = parsed[index]!.record!;
  const lineOfSeq = (seq: number, from: number, to: number): number => {
    for (let i = from; i < to; i++) if (parsed[i]!.record?.seq === seq) return i + 1;
    return -1;
  };
  if (record.seq > expectedSeq) {
    const later = lineOfSeq(expectedSeq, index + 1, parsed.length);
    if (later !== -1) return { kind: 'reordered', message: `seq ${record.seq} where seq ${expectedSeq} was due; seq ${expectedSeq} is at line ${later}: records were reordered` };
    const missing = record.seq - 1 === expectedSeq ? `seq ${expectedSeq} is` : `seq ${expectedSeq}-${record.seq - 1} are`;
    return { kind: 'removed', message: `seq ${record.seq} where seq ${expectedSeq} was due; ${missing} missing: records were removed` };
  }
  if (record.seq < expectedSeq) {
    const earlier = lineOfSeq(record.seq, 0, index);
    if (earlier !== -1) return { kind: 'inserted', message: `seq ${record.seq} appears again (first at line ${earlier}): a record was inserted` };
    return { kind: 'reordered', message: `seq ${record.seq} where seq ${expectedSeq} was due: records were reordered` };
  }
  return {
    kind: 'chain',
    message: `prev does not match the hash of line ${index}: line ${index} was replaced or rewritten, or a record was inserted before this one`,
  };
}

/** Walks the whole log and names the first record that breaks the chain. An absent log is unreadable (InputError). */
export async function verifyAuditLog(path: string): Promise<AuditVerification> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read audit log (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { subject: path, cause: error });
  }
  if (text === '') return { ok: true, records: 0, head: null };
  const lines = text.split('\n');
  const torn = lines.pop() !== '';
  const parsed = lines.map(parseLine);
  let head: string | null = null;
  let expectedSeq = 1;
  for (let index = 0; index < parsed.length; index++) {
    const line = index + 1;
    const entry = parsed[index]!;
    const fail = (kind: AuditProblemKind, message: string): AuditVerification => ({ ok: false, records: index, head, problem: { line, kind, message } });
    if (!entry.record) return fail('malformed', `malformed record: ${entry.problems.join('; ')}`);
    const record = entry.record;
    if (auditRecordHash(record) !== record.hash) return fail('edited', 'the record does not match its hash: it was edited');
    if (record.seq !== expectedSeq || record.prev !== head) {
      const problem = chainProblem(parsed, index, expectedSeq);
      return fail(problem.kind, problem.message);
    }
    head = record.hash;
    expectedSeq++;
  }
  if (torn) {
    return { ok: false, records: parsed.length, head, problem: { line: parsed.length + 1, kind: 'malformed', message: 'the last record has no line end: a torn or appended-to write' } };
  }
  return { ok: true, records: parsed.length, head };
}
