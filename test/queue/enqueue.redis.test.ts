// Enqueue to completion through the CLI, as an ETL step runs it: `enqueue --wait` exits with the
// scan's verdict code and prints its summary, the same work enqueued again is the same job,
// `status` reports state, progress, verdict and out dir.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir, ROOT } from '../helpers.js';
import { queueEnv, removeKeys, requireRedis, startWorkerProcess, uniquePrefix, RULE_CHECKS, type WorkerProcess } from './helpers.js';

const INCOMING = join(ROOT, 'datasets/credit/incoming.csv');
const CONTRACT = join(ROOT, 'schemas/credit.contract.json');
const CHECKS = ['--checks', RULE_CHECKS.join(',')];
const prefix = uniquePrefix('enqueue');
const env = queueEnv(prefix);
let worker: WorkerProcess;
let work: string;

before(async () => {
  await requireRedis();
  work = await tempDir();
  worker = await startWorkerProcess(prefix);
});

after(async () => {
  await worker?.stop();
  await removeKeys(prefix);
  if (work) await rm(work, { recursive: true, force: true });
});

test('enqueue --wait exits with the verdict code and prints the summary; enqueueing again returns the same job', async () => {
  const out = join(work, 'run');
  const waited = await runCli(['enqueue', INCOMING, '--contract', CONTRACT, '--out', out, ...CHECKS, '--wait'], { env });
  assert.equal(waited.code, 1, waited.stderr); // the example data warns: 65 of 2013 rows
  assert.match(waited.stdout, /^WARN: 65 of 2013 rows quarantined \(3\.23%\) against contract credit$/m);
  assert.match(waited.stdout, /^  duplicate: 13 rows$/m);
  const id = /^job: (scan-[0-9a-f]{40})$/m.exec(waited.stdout)?.[1];
  assert.ok(id, waited.stdout);
  for (const name of ['clean.csv', 'quarantine.csv', 'report.json', 'report.md']) assert.ok(existsSync(join(out, name)), name);

  const again = await runCli(['enqueue', INCOMING, '--contract', CONTRACT, '--out', out, ...CHECKS], { env });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout.trim(), id);
  assert.match(again.stderr, /already on the queue \(completed\)/);

  // Relative paths resolve to the same files: the same job.
  const relative = await runCli(['enqueue', 'datasets/credit/incoming.csv', '--contract', 'schemas/credit.contract.json', '--out', out, '--seed', '42', ...CHECKS], { env });
  assert.equal(relative.stdout.trim(), id);

  const status = await runCli(['status', id], { env });
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /^state: +completed$/m);
  assert.match(status.stdout, /^progress: +2,013 of 2,013 rows \(1 of 1 ranges\)$/m);
  assert.match(status.stdout, /^verdict: +warn \(exit 1\), 65 rows quarantined$/m);
  assert.match(status.stdout, new RegExp(`^out: +${out}$`, 'm'));

  const json = JSON.parse((await runCli(['status', id, '--json'], { env })).stdout);
  assert.equal(json.summary.rows, 2013);
  assert.equal(json.summary.quarantined, 65);
  assert.equal(json.attemptsMade, 1);
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
  assert.equal(json.summary.input.sha256, report.input.sha256);

  // One scan, one record in the default audit log beside the out dir.
  const audit = readFileSync(join(work, 'audit.jsonl'), 'utf8').trim().split('\n');
  assert.equal(audit.length, 1);
});

test('--rerun replaces the finished job with a new run of the same work', async () => {
  const out = join(work, 'run');
  const rerun = await runCli(['enqueue', INCOMING, '--contract', CONTRACT, '--out', out, ...CHECKS, '--rerun', '--wait'], { env });
  assert.equal(rerun.code, 1, rerun.stderr);
  const id = /^job: (\S+)$/m.exec(rerun.stdout)?.[1];
  const json = JSON.parse((await runCli(['status', id!, '--json'], { env })).stdout);
  assert.equal(json.state, 'completed');
  assert.ok(Date.parse(json.createdAt) > Date.now() - 60_000);
  // Two runs, two audit records, chained.
  const audit = readFileSync(join(work, 'audit.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
  assert.equal(audit.length, 2);
  assert.equal(audit[1].prev, audit[0].hash);
});

test('a different seed is different work; status of an unknown job exits 3', async () => {
  const out = join(work, 'run');
  const first = (await runCli(['enqueue', INCOMING, '--contract', CONTRACT, '--out', out, ...CHECKS], { env })).stdout.trim();
  const seeded = await runCli(['enqueue', INCOMING, '--contract', CONTRACT, '--out', out, ...CHECKS, '--seed', '7', '--wait', '--no-audit'], { env });
  assert.equal(seeded.code, 1, seeded.stderr);
  const seededId = /^job: (\S+)$/m.exec(seeded.stdout)?.[1];
  assert.ok(seededId && seededId !== first);
  const unknown = await runCli(['status', 'scan-0000'], { env });
  assert.equal(unknown.code, 3);
  assert.match(unknown.stderr, /scan-0000: no such job/);
});

test('enqueue refuses bad input before queueing it (exit 3, nothing added)', async () => {
  const missing = await runCli(['enqueue', join(work, 'nope.csv'), '--contract', CONTRACT, '--out', join(work, 'x')], { env });
  assert.equal(missing.code, 3);
  assert.match(missing.stderr, /nope\.csv: cannot read dataset/);
  const badCheck = await runCli(['enqueue', INCOMING, '--contract', CONTRACT, '--out', join(work, 'x'), '--checks', 'schema,nonsense'], { env });
  assert.equal(badCheck.code, 3);
  assert.match(badCheck.stderr, /unknown check 'nonsense'/);
});
