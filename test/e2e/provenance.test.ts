// Provenance through `scan`: every manifest failure fails the scan (exit 2) with its
// provenance:<kind> code, holds every row and leaves the clean set empty; replayed poisoned rows
// are caught in a later dataset; each scan appends one audit record and tampering is found.
import { after, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runCli, tempDir } from '../helpers.js';
import { readAll } from '../io/read-all.js';
import { Redis } from 'ioredis';
import { removeKeys, requireRedis, uniquePrefix, REDIS_URL } from '../queue/helpers.js';

const INCOMING = join(ROOT, 'datasets/credit/incoming.csv');
const RULES = ['--checks', 'schema,range,label,duplicate,source'];
let work = '';
let contract = '';
let data = '';
const REDIS_PREFIX = uniquePrefix('replay');

after(async () => {
  await removeKeys(REDIS_PREFIX).catch(() => undefined);
});

before(async () => {
  work = await tempDir();
  data = join(work, 'incoming.csv');
  copyFileSync(INCOMING, data);
  for (const name of ['acme', 'mallory']) {
    const made = await runCli(['keygen', '--name', name, '--out', join(work, name === 'acme' ? 'trusted' : 'untrusted')]);
    assert.equal(made.code, 0, made.stderr);
  }
  const base = JSON.parse(readFileSync(join(ROOT, 'schemas/credit.contract.json'), 'utf8'));
  base.provenance = { trustedKeys: ['trusted'], allowedSources: ['acme', 'branch', 'web', 'partner'], requireManifest: true, maxManifestAge: '7d' };
  contract = join(work, 'credit.contract.json');
  writeFileSync(contract, JSON.stringify(base));
});

async function sign(name: string, dataset: string, key = 'trusted/acme.key', extra: string[] = []): Promise<string> {
  const manifest = join(work, `${name}.manifest.json`);
  const made = await runCli(['manifest', 'create', dataset, '--source', 'acme', '--key', join(work, key), '--out', manifest, ...extra]);
  assert.equal(made.code, 0, made.stderr);
  return manifest;
}

async function scanWith(name: string, dataset: string, manifest?: string) {
  const out = join(work, 'runs', name);
  const result = await runCli(['scan', dataset, '--contract', contract, '--out', out, ...RULES, ...(manifest ? ['--manifest', manifest] : [])]);
  assert.ok(existsSync(join(out, 'report.json')), `exit ${result.code}: ${result.stderr}`);
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
  return { result, report, out };
}

test('a valid signed manifest: the scan proceeds and the report names the signer', async () => {
  const { result, report } = await scanWith('valid', data, await sign('valid', data));
  assert.equal(result.code, 1, result.stderr);
  assert.equal(report.provenance.manifest.signer, 'acme');
  assert.equal(report.provenance.verified, true);
  assert.ok(report.clean.rows > 0);
});

const failures: [string, () => Promise<[string, string | undefined]>, RegExp][] = [
  ['no manifest although the contract requires one', async () => [data, undefined], /^provenance:missing$/],
  ['a manifest signed by a key that is not trusted', async () => [data, await sign('untrusted', data, 'untrusted/mallory.key')], /^provenance:signer$/],
  ['a forged signature', async () => {
    const manifest = await sign('forged', data);
    const json = JSON.parse(readFileSync(manifest, 'utf8'));
    json.source = 'web'; // an edit after signing
    writeFileSync(manifest, JSON.stringify(json));
    return [data, manifest];
  }, /^provenance:signature$/],
  ['one changed byte in the data', async () => {
    const changed = join(work, 'changed.csv');
    const manifest = await sign('changed', data);
    const bytes = readFileSync(data);
    bytes[bytes.length - 10] = bytes[bytes.length - 10] === 0x31 ? 0x32 : 0x31;
    writeFileSync(changed, bytes);
    return [changed, manifest];
  }, /^provenance:(hash|chunk)$/],
  ['a manifest past its expiry', async () => [data, await sign('expired', data, 'trusted/acme.key', ['--expires', '1ms'])], /^provenance:expired$/],
  ['a malformed manifest', async () => {
    const manifest = join(work, 'malformed.manifest.json');
    writeFileSync(manifest, '{"format": "datawarden-manifest/1", "dataset": 3}');
    return [data, manifest];
  }, /^provenance:malformed$/],
];

for (const [name, prepare, code] of failures) {
  test(`${name}: exit 2, every row held, empty clean set`, async () => {
    const [dataset, manifest] = await prepare();
    await new Promise((resolve) => setTimeout(resolve, 5)); // lets a 1 ms expiry pass
    const { result, report, out } = await scanWith(name.replaceAll(' ', '-'), dataset, manifest);
    assert.equal(result.code, 2, result.stderr);
    const held = report.findings.filter((f: { holdAllRows?: boolean }) => f.holdAllRows).map((f: { code: string }) => f.code);
    assert.ok(held.some((c: string) => code.test(c)), `findings: ${held.join(', ')}`);
    assert.equal(report.clean.rows, 0);
    assert.equal(report.quarantine.rows, report.input.rows);
    assert.equal((await readAll(join(out, 'clean.csv'), 'raw')).rows, 0);
  });
}

// The same flow with the memory in a file and in Redis (queue workers on several machines).
const memories: { name: string; memory: () => string; env: NodeJS.ProcessEnv }[] = [
  { name: 'a file', memory: () => join(work, 'replay.jsonl'), env: {} },
  { name: 'Redis (redis:<name>)', memory: () => 'redis:credit-feed', env: { DATAWARDEN_QUEUE_PREFIX: REDIS_PREFIX } },
];

for (const { name, memory, env } of memories) {
  test(`a replayed poisoned row is caught in a later dataset, also with its label flipped: memory in ${name}`, async () => {
    if (env.DATAWARDEN_QUEUE_PREFIX) await requireRedis();
    const out = join(work, `replay-${memories.findIndex((m) => m.name === name)}`);
    const first = await runCli(['scan', INCOMING, '--contract', join(ROOT, 'schemas/credit.contract.json'), '--out', join(out, 'week1'), '--memory', memory(), ...RULES], { env });
    assert.equal(first.code, 1, first.stderr);
    // Week 2 brings back a row week 1 quarantined for its content (age 150), now with a new id and
    // the other label, plus a clean row.
    const lines = readFileSync(INCOMING, 'utf8').trimEnd().split('\n');
    const header = lines[0]!.split(',');
    const truth = JSON.parse(readFileSync(join(ROOT, 'datasets/credit/ground-truth.json'), 'utf8'));
    const rangeRow = truth.injected.find((i: { kind: string; reasons: string[] }) => i.reasons.includes('range:age')).row as number;
    const poisoned = lines[rangeRow + 1]!.split(',');
    poisoned[header.indexOf('application_id')] = 'B0000001';
    const label = header.indexOf('approved');
    poisoned[label] = poisoned[label] === '1' ? '0' : '1';
    const week2 = join(out, 'week2.csv');
    writeFileSync(week2, [lines[0], lines[1], poisoned.join(',')].join('\n') + '\n');
    const second = await runCli(['scan', week2, '--contract', join(ROOT, 'schemas/credit.contract.json'), '--out', join(out, 'week2'), '--memory', memory(), ...RULES], { env });
    assert.equal(second.code, 2, second.stderr);
    const quarantine = await readAll(join(out, 'week2', 'quarantine.csv'), 'typed');
    assert.deepEqual(quarantine.values._row, [1]);
    assert.equal(quarantine.values._reasons![0], 'range:age;replay');
    if (env.DATAWARDEN_QUEUE_PREFIX) {
      // Kept in Redis, not in a file that happens to be called redis:credit-feed.
      assert.equal(existsSync(join(ROOT, memory())), false);
      const redis = new Redis(REDIS_URL);
      try {
        assert.ok((await redis.hlen(`${REDIS_PREFIX}:replay:credit-feed:bad`)) > 0, 'known-bad rows in Redis');
        assert.equal(await redis.hlen(`${REDIS_PREFIX}:replay:credit-feed:seen`), 2, 'both datasets seen');
      } finally {
        redis.disconnect();
      }
    }
  });
}

test('a replay memory in Redis that cannot be reached: exit 3, one line naming the store', async () => {
  const result = await runCli(['scan', INCOMING, '--contract', join(ROOT, 'schemas/credit.contract.json'), '--out', join(work, 'no-redis'), '--memory', 'redis:credit-feed', ...RULES], {
    env: { REDIS_URL: 'redis://127.0.0.1:1', DATAWARDEN_QUEUE_PREFIX: REDIS_PREFIX },
  });
  assert.equal(result.code, 3);
  assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
  assert.match(result.stderr, /redis:credit-feed: Redis at redis:\/\/127\.0\.0\.1:1/);
  assert.doesNotMatch(result.stderr, /internal error/);
  assert.equal(existsSync(join(work, 'no-redis', 'report.json')), false);
});

test('each scan appends one audit record; an edited or reordered log is found', async () => {
  const log = join(work, 'audited.jsonl');
  for (const name of ['a', 'b', 'c']) {
    const result = await runCli(['scan', INCOMING, '--contract', join(ROOT, 'schemas/credit.contract.json'), '--out', join(work, 'audited', name), '--audit-log', log, ...RULES]);
    assert.equal(result.code, 1, result.stderr);
  }
  const records = readFileSync(log, 'utf8').trimEnd().split('\n');
  assert.equal(records.length, 3);
  const intact = await runCli(['audit', 'verify', '--log', log]);
  assert.equal(intact.code, 0, intact.stderr);
  const edited = join(work, 'edited.jsonl');
  writeFileSync(edited, [records[0], records[1]!.replace('"verdict":"warn"', '"verdict":"pass"'), records[2]].join('\n') + '\n');
  const editedResult = await runCli(['audit', 'verify', '--log', edited]);
  assert.equal(editedResult.code, 2);
  assert.match(editedResult.stdout + editedResult.stderr, /line 2/);
  const reordered = join(work, 'reordered.jsonl');
  writeFileSync(reordered, [records[0], records[2], records[1]].join('\n') + '\n');
  const reorderedResult = await runCli(['audit', 'verify', '--log', reordered]);
  assert.equal(reorderedResult.code, 2);
  assert.match(reorderedResult.stdout + reorderedResult.stderr, /line 2/);
});
