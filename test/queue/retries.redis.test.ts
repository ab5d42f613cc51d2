// Which failures are retried: an I/O error (the out dir cannot be created until a blocking file
// goes away) is retried with backoff and the job completes; bad input fails at once with its
// reason and one attempt, as does a dataset changed after it was enqueued; a range job that fails
// for good fails its dataset job with the reason.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { copyFile, open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { ScanQueue } from '../../src/queue/client.js';
import { ROOT, runCli, tempDir } from '../helpers.js';
import { queueEnv, removeKeys, requireRedis, startWorkerProcess, uniquePrefix, until, writeCreditParquet, REDIS_URL, RULE_CHECKS, type WorkerProcess } from './helpers.js';

const INCOMING = join(ROOT, 'datasets/credit/incoming.csv');
const CONTRACT = join(ROOT, 'schemas/credit.contract.json');
const prefix = uniquePrefix('retries');
let worker: WorkerProcess;
let queue: ScanQueue;
let work: string;

before(async () => {
  await requireRedis();
  work = await tempDir();
  worker = await startWorkerProcess(prefix, ['--range-rows', '2000', '--split', 'always']);
  queue = new ScanQueue({ connection: { redisUrl: REDIS_URL, prefix }, jobs: { attempts: 4, backoffMs: 800 } });
});

after(async () => {
  await queue?.close();
  await worker?.stop();
  await removeKeys(prefix);
  if (work) await rm(work, { recursive: true, force: true });
});

test('an I/O error is retried with backoff until it passes', async () => {
  // A regular file where the out dir's parent should be: mkdir fails with ENOTDIR.
  const blocker = join(work, 'blocked');
  await writeFile(blocker, 'not a directory');
  const { id } = await queue.enqueue({ input: INCOMING, contract: CONTRACT, checks: RULE_CHECKS, outDir: join(blocker, 'run') });
  const firstFailure = await until(async () => {
    const job = await queue.queue.getJob(id);
    return job && job.attemptsMade >= 1 ? job : undefined;
  }, 20_000, 'the first attempt to fail');
  assert.match(firstFailure.failedReason, /ENOTDIR|EEXIST/);
  assert.notEqual(await firstFailure.getState(), 'failed', 'an I/O error leaves attempts for a retry');
  await rm(blocker);
  const status = await queue.wait(id, { timeoutMs: 30_000 });
  assert.equal(status.state, 'completed', status.failedReason ?? '');
  assert.ok(status.attemptsMade >= 1 && status.summary!.rows === 2013);
  const job = await queue.queue.getJob(id);
  assert.ok(job!.attemptsStarted >= 2, `attempts started: ${job!.attemptsStarted}`);
  assert.ok(existsSync(join(blocker, 'run', 'report.json')));
});

test('bad input fails at once: unrecoverable, reason kept, one attempt', async () => {
  const garbage = join(work, 'garbage.parquet');
  await writeFile(garbage, Buffer.alloc(4096, 7));
  const result = await runCli(['enqueue', garbage, '--contract', CONTRACT, '--out', join(work, 'garbage-out'), '--wait'], { env: queueEnv(prefix) });
  assert.equal(result.code, 3);
  assert.match(result.stderr, /^job scan-[0-9a-f]{40} failed: .*garbage\.parquet: cannot read Parquet metadata/m);
  const id = /job (scan-\S+) failed/.exec(result.stderr)![1]!;
  const job = await queue.queue.getJob(id);
  assert.equal(await job!.getState(), 'failed');
  assert.equal(job!.attemptsMade, 1);
  assert.equal(job!.attemptsStarted, 1);
});

test('a range job that fails for good fails its dataset job, with the reason', async () => {
  const corrupt = join(work, 'corrupt.parquet');
  await writeCreditParquet(corrupt, 1, 1000);
  // Overwrite the middle of the second row group's income page: Snappy cannot decompress it.
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  const reader = await db.runAndReadAll(
    `SELECT data_page_offset, total_compressed_size FROM parquet_metadata('${corrupt}') WHERE row_group_id = 1 AND path_in_schema = 'income'`,
  );
  db.closeSync();
  const [offset, size] = reader.getRows()[0]!.map(Number) as [number, number];
  const handle = await open(corrupt, 'r+');
  await handle.write(Buffer.alloc(Math.min(300, size - 100), 0xab), 0, undefined, offset + 80);
  await handle.close();
  const copy = join(work, 'corrupt-copy.parquet');
  await copyFile(corrupt, copy);

  // Rule checks only: fitting the detectors would read the whole file in the dataset job first.
  const { id } = await queue.enqueue({ input: copy, contract: CONTRACT, checks: RULE_CHECKS, outDir: join(work, 'corrupt-out') });
  const status = await queue.wait(id, { timeoutMs: 30_000 });
  assert.equal(status.state, 'failed');
  assert.ok(status.failedRanges.length >= 1, JSON.stringify(status));
  assert.match(status.failedRanges.join('\n'), /corrupt-copy\.parquet: cannot read.*(Snappy|decompress|corrupt)/i);
  assert.equal(status.summary, null);
  assert.ok(!existsSync(join(work, 'corrupt-out', 'report.json')));
  // The ranges that did finish left their results; the failed scan removes them.
  await until(async () => (readdirSync(join(work, 'corrupt-out')).length === 0 ? true : undefined), 10_000, 'the range results to be removed');
  assert.match(status.failedReason!, /^child \S+-r1-1 failed$/, 'the second range failed');
});

test('a dataset changed after it was enqueued fails at once, and nothing is written', async () => {
  // Its own queue, with no worker until the file has changed.
  const changedPrefix = uniquePrefix('changed');
  const changedQueue = new ScanQueue({ connection: { redisUrl: REDIS_URL, prefix: changedPrefix } });
  let changedWorker: WorkerProcess | undefined;
  try {
    const input = join(work, 'changing.csv');
    await copyFile(INCOMING, input);
    const out = join(work, 'changed-out');
    const { id } = await changedQueue.enqueue({ input, contract: CONTRACT, checks: RULE_CHECKS, outDir: out });
    await writeFile(input, (await readFile(input, 'utf8')).replace(/\n[^\n]*\n$/, '\n'));
    changedWorker = await startWorkerProcess(changedPrefix);
    const status = await changedQueue.wait(id, { timeoutMs: 30_000 });
    assert.equal(status.state, 'failed');
    assert.match(status.failedReason!, /changing\.csv: the dataset changed since the scan was requested/);
    const job = await changedQueue.queue.getJob(id);
    assert.equal(job!.attemptsMade, 1, 'a changed file is not retried');
    assert.deepEqual(existsSync(out) ? readdirSync(out) : [], []);
  } finally {
    await changedQueue.close();
    await changedWorker?.stop();
    await removeKeys(changedPrefix);
  }
});
