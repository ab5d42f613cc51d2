// What travels through Redis: the scan a dataset job asks for, the state it keeps between its
// phases, what a range job gets, and the summary a finished job returns. All of it is small
// JSON; range results (possibly megabytes) go to files, never into Redis.
import type { DatasetFinding } from '../core/types.js';
import type { RowRange } from '../io/source.js';
import type { Format } from '../io/formats.js';
import type { Verdict } from '../pipeline/report.js';

/** Job names on the queue. */
export const SCAN_JOB = 'scan';
export const RANGE_JOB = 'range';

/**
 * One scan, as `datawarden scan` takes it. Paths are absolute (resolved where the scan was
 * enqueued; workers must see the same paths). `outDir` may hold {name}, {date}, {time} and
 * {jobId}, filled in when the job starts.
 */
export interface ScanRequest {
  readonly input: string;
  readonly contract: string;
  readonly outDir: string;
  readonly modelPath?: string;
  readonly manifest?: string;
  readonly format?: Format;
  readonly checks?: readonly string[];
  readonly seed?: number;
  readonly batchRows?: number;
  /** Trusted data to fit the detectors on (instead of a sample of the input). */
  readonly baseline?: string;
  readonly fitRows?: number;
  /** Also write scores.<ext>; such a scan runs in one job (the scores file is written in row order). */
  readonly emitScores?: boolean;
  readonly memory?: string;
  /** A path; null for no audit record; absent for the worker's default (see defaultAuditLog). */
  readonly auditLog?: string | null;
  /** POSTed the summary when the job completes. */
  readonly webhook?: string;
  /** The schedule (jobs/<name>.json) that produced this job. */
  readonly schedule?: { readonly name: string; readonly timezone?: string };
}

/** The sha256 of each input file when the scan was enqueued; the job refuses changed files. */
export interface ExpectedHashes {
  readonly input: string;
  readonly contract: string;
  readonly model: string | null;
}

/** What a fanned-out dataset job remembers between its phases (it runs again when its range jobs finish). */
export interface FanOut {
  /** Fan-outs start over after a failed round (a retried job); range job ids carry the round. */
  readonly round: number;
  readonly outDir: string;
  readonly sha256: string;
  readonly bytes: number;
  /** Wall-clock start of the scan (epoch ms), so the report times the whole fan-out. */
  readonly startedAt: number;
  /** The plan's dataset-level findings (provenance verified here, once). */
  readonly findings: readonly DatasetFinding[];
  readonly ranges: readonly RowRange[];
  /** The detectors' model, resolved once (loaded or fitted) and saved for the range jobs. */
  readonly model?: { readonly path: string; readonly sha256: string; readonly source: 'given' | 'file' | 'baseline' | 'input' };
  /** Range jobs are on the queue. */
  readonly added: boolean;
  /** When completing began (epoch ms): a rerun after a crash checks whether it already finished. */
  readonly completingAt?: number;
}

export interface ScanJobData {
  readonly request: ScanRequest;
  readonly expected?: ExpectedHashes;
  /** Where a scheduled job came from (jobs/<name>.json) and a digest of its definition. */
  readonly definition?: { readonly file: string; readonly digest: string };
  /** Fan-outs started so far. */
  readonly rounds?: number;
  readonly fanOut?: FanOut;
  /** Set by a single-range scan before it starts writing, for the same rerun check. */
  readonly completingAt?: number;
  readonly completingOutDir?: string;
}

export interface RangeJobData {
  readonly request: ScanRequest;
  readonly outDir: string;
  readonly round: number;
  readonly index: number;
  readonly range: RowRange;
  readonly sha256: string;
  readonly findings: readonly DatasetFinding[];
  /** The model the dataset job resolved (see FanOut.model). */
  readonly model?: FanOut['model'];
  /** Where the RangeResult goes (v8-serialised). */
  readonly resultPath: string;
}

export interface RangeJobResult {
  readonly round: number;
  readonly index: number;
  readonly range: RowRange;
  readonly rows: number;
  readonly quarantined: number;
  readonly resultPath: string;
}

export interface WebhookOutcome {
  readonly url: string;
  readonly delivered: boolean;
  readonly attempts: number;
  readonly status: number | null;
  readonly signed: boolean;
  readonly error?: string;
}

/** A finished scan, as a job returns it, `status` shows it and the webhook posts it. */
export interface ScanSummary {
  readonly event: 'scan.completed';
  readonly jobId: string;
  readonly schedule: string | null;
  readonly verdict: Verdict;
  readonly exitCode: number;
  readonly verdictReasons: readonly string[];
  readonly rows: number;
  readonly clean: number;
  readonly quarantined: number;
  readonly quarantineFraction: number;
  readonly input: { readonly path: string; readonly sha256: string };
  readonly contract: { readonly name: string; readonly sha256: string };
  readonly outDir: string;
  readonly report: string;
  /** Range jobs the scan was split into (1: checked in the dataset job itself). */
  readonly ranges: number;
  readonly finishedAt: string;
  readonly webhook?: WebhookOutcome;
}
