// `schedule sync` makes the queue's job schedulers match a folder of job files: added, changed
// in place, removed with their file; an invalid file is named with its field and changes nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers.js';
import { queueEnv, removeKeys, requireRedis, uniquePrefix } from './helpers.js';

const prefix = uniquePrefix('schedule');
const env = queueEnv(prefix);
let jobsDir: string;

const audit = (name: string, cron: string, extra: Record<string, unknown> = {}) => ({
  name,
  dataset: 'datasets/credit/incoming.csv',
  contract: 'schemas/credit.contract.json',
  cron,
  timezone: 'Europe/Berlin',
  out: 'runs/{name}/{date}',
  ...extra,
});

async function writeJob(file: string, value: unknown): Promise<void> {
  await writeFile(join(jobsDir, file), JSON.stringify(value, null, 2));
}

interface Listed { name: string; cron: string; timezone: string; next: string | null; dataset: string; out: string; webhook: string | null; file: string }

async function list(): Promise<Listed[]> {
  const result = await runCli(['schedule', 'list', '--json'], { env });
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as Listed[];
}

async function sync(): Promise<{ added: string[]; updated: string[]; unchanged: string[]; removed: string[] }> {
  const result = await runCli(['schedule', 'sync', '--dir', jobsDir, '--json'], { env });
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
}

before(async () => {
  await requireRedis();
  jobsDir = join(await tempDir(), 'jobs');
  await mkdir(jobsDir);
});

after(async () => {
  await removeKeys(prefix);
  if (jobsDir) await rm(join(jobsDir, '..'), { recursive: true, force: true });
});

test('schedule sync adds, updates in place, leaves alone and removes schedulers', async () => {
  await writeJob('nightly.json', audit('nightly', '0 2 * * *', { webhook: 'https://etl.example.com/hook' }));
  await writeJob('hourly.json', audit('hourly', '15 * * * *'));
  assert.deepEqual(await sync(), { added: ['hourly', 'nightly'], updated: [], unchanged: [], removed: [] });
  let listed = await list();
  assert.deepEqual(listed.map((s) => [s.name, s.cron, s.timezone]), [['hourly', '15 * * * *', 'Europe/Berlin'], ['nightly', '0 2 * * *', 'Europe/Berlin']]);
  const nightly = listed.find((s) => s.name === 'nightly')!;
  assert.ok(nightly.next && Date.parse(nightly.next) > Date.now(), 'next run is in the future');
  // 02:00 in Berlin is 00:00 or 01:00 UTC.
  assert.match(nightly.next!, /T0[01]:00:00\.000Z$/);
  assert.ok(nightly.dataset.endsWith('/datasets/credit/incoming.csv'));
  assert.equal(nightly.webhook, 'https://etl.example.com/hook');

  const text = await runCli(['schedule', 'list'], { env });
  assert.match(text.stdout, /^name +cron +timezone +next run +dataset +out$/m);
  assert.match(text.stdout, /^nightly +0 2 \* \* \* +Europe\/Berlin /m);

  // Syncing again changes nothing.
  assert.deepEqual(await sync(), { added: [], updated: [], unchanged: ['hourly', 'nightly'], removed: [] });

  await writeJob('nightly.json', audit('nightly', '30 3 * * *', { webhook: 'https://etl.example.com/hook' }));
  assert.deepEqual(await sync(), { added: [], updated: ['nightly'], unchanged: ['hourly'], removed: [] });
  listed = await list();
  assert.equal(listed.find((s) => s.name === 'nightly')!.cron, '30 3 * * *');
  assert.equal(listed.length, 2);

  await rm(join(jobsDir, 'hourly.json'));
  assert.deepEqual(await sync(), { added: [], updated: [], unchanged: ['nightly'], removed: ['hourly'] });
  assert.deepEqual((await list()).map((s) => s.name), ['nightly']);
});

test('an invalid job file is named with its field, and nothing is synced', async () => {
  await writeJob('broken.json', audit('broken', '0 2 * * *', { timezone: 'Atlantis/Capital' }));
  await writeJob('extra.json', audit('extra', '0 4 * * *'));
  const before = await list();
  const result = await runCli(['schedule', 'sync', '--dir', jobsDir], { env });
  assert.equal(result.code, 3);
  assert.match(result.stderr, /broken\.json: timezone: unknown time zone 'Atlantis\/Capital'/);
  assert.deepEqual(await list(), before, 'no scheduler added or removed');

  await writeJob('broken.json', audit('broken', '0 2 * * *', { out: 42 }));
  const typed = await runCli(['schedule', 'sync', '--dir', jobsDir], { env });
  assert.equal(typed.code, 3);
  assert.match(typed.stderr, /broken\.json: out: must be string/);
  await rm(join(jobsDir, 'broken.json'));
  await rm(join(jobsDir, 'extra.json'));
});
