// Range results travel between workers as files in a per-job folder inside the out dir (they can
// be megabytes; Redis only sees their paths). Written under a temporary name and renamed, so a
// rerun of a range job replaces a whole file and a reader never sees half of one.
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { writeFileAtomic } from '../io/atomic.js';
import type { RangeResult } from '../pipeline/scan.js';

/** The folder a job's range results live in until the job completes. */
export function rangeResultsDir(outDir: string, jobId: string): string {
  return join(outDir, `.datawarden-ranges-${jobId.replace(/[^A-Za-z0-9._-]/g, '_')}`);
}

export function rangeResultPath(outDir: string, jobId: string, round: number, index: number): string {
  return join(rangeResultsDir(outDir, jobId), `round${round}-range${index}.v8`);
}

export async function writeRangeResult(path: string, result: RangeResult): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFileAtomic(path, serialize(result));
}

export async function readRangeResult(path: string): Promise<RangeResult> {
  return deserialize(await readFile(path)) as RangeResult;
}

export async function removeRangeResults(outDir: string, jobId: string): Promise<void> {
  await rm(rangeResultsDir(outDir, jobId), { recursive: true, force: true });
}
