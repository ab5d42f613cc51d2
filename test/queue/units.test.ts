// Queue building blocks that need no Redis: range grouping, settings, job ids, out dir templates,
// failure classification, webhook signatures and job-file validation.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UnrecoverableError } from 'bullmq';
import { InputError, isIoError } from '../../src/core/errors.js';
import { jobError } from '../../src/queue/failures.js';
import { groupRanges } from '../../src/queue/ranges.js';
import { absoluteRequest, hashRequestFiles, resolveOutDir, scanJobId } from '../../src/queue/request.js';
import { loadAuditJob, loadAuditJobs } from '../../src/queue/schedules.js';
import { bullmqKeep, connectionSettings, hostOfWorker, parseKeep, redisOptionsFromUrl, spareCores, workerName } from '../../src/queue/settings.js';
import { verifyWebhookSignature, webhookSignature } from '../../src/queue/webhook.js';
import type { ScanRequest } from '../../src/queue/jobs.js';
import { ROOT, tempDir as newTempDir } from '../helpers.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await newTempDir();
  dirs.push(dir);
  return dir;
}
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

test('row groups are joined into ranges nearest the target', () => {
  const cases: [number[], number, [number, number][]][] = [
    [[100, 100, 100, 100, 100], 240, [[0, 200], [200, 400], [400, 500]]],
    [[122880, 122880, 122880, 122880, 122880, 122880, 122880, 122880, 10], 500_000, [[0, 491520], [491520, 983050]]],
    [[1000], 10, [[0, 1000]]],
    [[5, 5, 5], 1, [[0, 5], [5, 10], [10, 15]]],
    [[], 100, [[0, 0]]],
  ];
  for (const [groups, target, expected] of cases) {
    assert.deepEqual(groupRanges(groups, target).map((r) => [r.start, r.end]), expected, `groups ${groups.join(',')} target ${target}`);
  }
});

test('scoring threads per job slot: the cores the slots leave, shared out, at most 4', () => {
  const cases: [concurrency: number, cores: number, threads: number][] = [
    [1, 1, 0], [1, 2, 1], [2, 2, 0], [3, 2, 0], [1, 8, 4], [2, 8, 3], [3, 8, 1], [4, 8, 1], [1, 64, 4],
  ];
  for (const [concurrency, cores, threads] of cases) assert.equal(spareCores(concurrency, cores), threads, `${concurrency} slots on ${cores} cores`);
});

test('worker names carry the host: read back from a Redis client name, whatever the host holds', () => {
  const cases: [clientName: string | undefined, host: string | null][] = [
    [`bull:c2NhbnM=:w:${workerName('gpu-box-7', 42)}`, 'gpu-box-7'],
    [`dw:team:a:c2NhbnM=:w:${workerName('odd host:w:@x', 7)}`, 'odd host:w:@x'],
    ['bull:c2NhbnM=', null],
    ['bull:c2NhbnM=:w:no-pid', null],
    [undefined, null],
  ];
  for (const [clientName, host] of cases) assert.equal(hostOfWorker(clientName), host, String(clientName));
});

test('REDIS_URL: redis:// and rediss:// with user, password and database; other schemes refused', () => {
  assert.deepEqual(redisOptionsFromUrl('redis://127.0.0.1:6380'), { host: '127.0.0.1', port: 6380 });
  assert.deepEqual(redisOptionsFromUrl('rediss://worker:p%40ss@redis.example.com/2'), {
    host: 'redis.example.com', port: 6379, username: 'worker', password: 'p@ss', db: 2, tls: {},
  });
  assert.deepEqual(redisOptionsFromUrl('redis://:secret@localhost'), { host: 'localhost', port: 6379, password: 'secret' });
  assert.throws(() => redisOptionsFromUrl('http://localhost:6379'), /unsupported scheme 'http:'/);
  assert.throws(() => redisOptionsFromUrl('localhost:6379'), InputError);
  assert.equal(connectionSettings({}, { DATAWARDEN_QUEUE_PREFIX: 'team-a' }).prefix, 'team-a');
  assert.equal(connectionSettings({ prefix: 'flag' }, { DATAWARDEN_QUEUE_PREFIX: 'env' }).prefix, 'flag');
  assert.throws(() => connectionSettings({ prefix: 'a:b' }, {}), /contain no ':'/);
});

test('retention: counts, ages, both, all, none', () => {
  assert.deepEqual(parseKeep('100'), { count: 100 });
  assert.deepEqual(parseKeep('7d'), { age: 604800 });
  assert.deepEqual(parseKeep('50,12h'), { count: 50, age: 43200 });
  assert.deepEqual(parseKeep('all'), {});
  assert.throws(() => parseKeep('7 days'), InputError);
  assert.equal(bullmqKeep({ count: 0 }), true);
  assert.equal(bullmqKeep({}), false);
  assert.deepEqual(bullmqKeep({ count: 5, age: 60 }), { age: 60, count: 5 });
});

test('out dir templates: {name}, {date} and {time} in the schedule time zone, {jobId}', () => {
  const at = Date.parse('2026-03-01T23:30:05Z');
  assert.equal(resolveOutDir('runs/{name}/{date}', { jobId: 'x', at, name: 'nightly' }), 'runs/nightly/2026-03-01');
  assert.equal(resolveOutDir('runs/{date}-{time}', { jobId: 'x', at, timezone: 'Europe/Berlin' }), 'runs/2026-03-02-003005');
  assert.equal(resolveOutDir('runs/{jobId}', { jobId: 'repeat:a:1', at }), 'runs/repeat_a_1');
  assert.equal(resolveOutDir('runs/plain', { jobId: 'x', at }), 'runs/plain');
});

test('job ids: the same work gives the same id; inputs and output-changing options change it', async () => {
  const work = await tempDir();
  const contract = join(work, 'credit.contract.json');
  await copyFile(join(ROOT, 'schemas/credit.contract.json'), contract);
  const base: ScanRequest = absoluteRequest({ input: join(ROOT, 'datasets/credit/incoming.csv'), contract, outDir: join(work, 'out') });
  const idOf = async (request: ScanRequest) => scanJobId(request, await hashRequestFiles(request));
  const id = await idOf(base);
  assert.match(id, /^scan-[0-9a-f]{40}$/);
  assert.equal(await idOf({ ...base }), id);
  assert.equal(await idOf({ ...base, seed: 42 }), id, 'the default seed is the same job');
  assert.equal(await idOf({ ...base, batchRows: 1000, webhook: 'http://x' }), id, 'batch size and webhook do not change outputs');
  assert.equal(await idOf({ ...base, checks: ['range', 'schema'] }), await idOf({ ...base, checks: ['schema', 'range'] }));
  const different = [
    { ...base, seed: 7 },
    { ...base, checks: ['schema'] },
    { ...base, outDir: join(work, 'other') },
    { ...base, format: 'parquet' as const },
    { ...base, baseline: join(ROOT, 'datasets/credit/trusted.parquet') },
    { ...base, emitScores: true },
    { ...base, input: join(ROOT, 'datasets/credit/trusted.parquet') },
  ];
  for (const request of different) assert.notEqual(await idOf(request), id, JSON.stringify(request));
  await appendFile(contract, '\n');
  assert.notEqual(await idOf(base), id, 'changed contract bytes');
});

test('failures: bad input and bugs are unrecoverable with their message; I/O errors are retried', () => {
  const bad = jobError(new InputError('corrupt file', { subject: 'x.parquet' }));
  assert.ok(bad instanceof UnrecoverableError);
  assert.equal(bad.message, 'x.parquet: corrupt file');
  const bug = jobError(new TypeError('undefined is not a function'));
  assert.ok(bug instanceof UnrecoverableError);
  assert.match(bug.message, /^internal error: undefined is not a function/);
  const disk = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
  assert.equal(jobError(disk), disk);
  assert.ok(isIoError(new Error('wrapped', { cause: Object.assign(new Error('EIO'), { code: 'EIO' }) })));
  assert.ok(!isIoError(Object.assign(new TypeError('bad arg'), { code: 'ERR_INVALID_ARG_TYPE' })));
  assert.ok(!isIoError(new InputError('no such file', { cause: Object.assign(new Error('ENOENT'), { code: 'ENOENT' }) })));
});

test('webhook signatures: HMAC-SHA256 of the exact body, compared in constant time', () => {
  const body = '{"verdict":"warn"}';
  const signature = webhookSignature(body, 'secret');
  assert.match(signature, /^sha256=[0-9a-f]{64}$/);
  assert.ok(verifyWebhookSignature(body, signature, 'secret'));
  assert.ok(!verifyWebhookSignature(body, signature, 'other'));
  assert.ok(!verifyWebhookSignature(`${body} `, signature, 'secret'));
  assert.ok(!verifyWebhookSignature(body, undefined, 'secret'));
});

test('the shipped jobs/*.json are valid audits', async () => {
  const jobs = await loadAuditJobs('jobs', ROOT);
  assert.ok(jobs.length >= 2);
  for (const job of jobs) {
    assert.ok(job.request.input.startsWith(ROOT), job.file);
    assert.match(job.digest, /^[0-9a-f]{64}$/);
  }
});

test('job files: each error names the file and the field', async () => {
  const dir = await tempDir();
  await mkdir(join(dir, 'jobs'));
  const valid = {
    name: 'nightly', dataset: 'datasets/credit/incoming.csv', contract: join(ROOT, 'schemas/credit.contract.json'),
    cron: '0 2 * * *', timezone: 'Europe/Berlin', out: 'runs/{name}/{date}',
  };
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ ...valid, timezone: 'Mars/Olympus' }, /bad\.json: timezone: unknown time zone 'Mars\/Olympus'/],
    [{ ...valid, cron: 'every night' }, /bad\.json: cron: must match pattern/],
    [{ ...valid, cron: undefined }, /bad\.json: cron: required field is missing/],
    [{ ...valid, shedule: 'x' }, /bad\.json: shedule: unknown field/],
    [{ ...valid, options: { seed: 'seven' } }, /bad\.json: options\.seed: must be integer/],
    [{ ...valid, contract: 'schemas/nope.json' }, /bad\.json: contract: .*no such file/],
    [{ ...valid, webhook: 'ftp://x' }, /bad\.json: webhook: must match pattern/],
    [{ ...valid, name: 'has space' }, /bad\.json: name: must match pattern/],
  ];
  for (const [value, expected] of cases) {
    await writeFile(join(dir, 'jobs', 'bad.json'), JSON.stringify(value));
    await assert.rejects(loadAuditJob(join('jobs', 'bad.json'), dir), (error: Error) => {
      assert.ok(error instanceof InputError, String(error));
      assert.match(error.message, expected);
      return true;
    });
  }
  await writeFile(join(dir, 'jobs', 'bad.json'), '{ "name": ');
  await assert.rejects(loadAuditJob(join('jobs', 'bad.json'), dir), /bad\.json: not valid JSON/);
  await writeFile(join(dir, 'jobs', 'a.json'), JSON.stringify(valid));
  await writeFile(join(dir, 'jobs', 'bad.json'), JSON.stringify(valid));
  await assert.rejects(loadAuditJobs('jobs', dir), /jobs\/bad\.json: name: 'nightly' is already the name of jobs\/a\.json/);
});
