// Provenance is verified once, by the dataset job, and its verdict reaches every range job: a
// contract that requires a manifest, scanned without one, holds every row back in every range,
// exactly as an in-process scan does; replay memory (in a file or in Redis) is written once, by
// the completion.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { loadContract } from '../../src/contract/load.js';
import { scan } from '../../src/pipeline/scan.js';
import { ScanQueue } from '../../src/queue/client.js';
import { ROOT, runCli, tempDir } from '../helpers.js';
import { quarantineOf, removeKeys, requireRedis, startWorkerProcess, uniquePrefix, writeCreditParquet, REDIS_URL, RULE_CHECKS, type WorkerProcess } from './helpers.js';

const prefix = uniquePrefix('provenance');
let worker: WorkerProcess;
let queue: ScanQueue;
let work: string;
let input: string;
let contractPath: string;

before(async () => {
  await requireRedis();
  work = await tempDir();
  input = join(work, 'credit.parquet');
  await writeCreditParquet(input, 3, 2048);
  const made = await runCli(['keygen', '--name', 'feed', '--out', join(work, 'trusted')]);
  assert.equal(made.code, 0, made.stderr);
  const contract = JSON.parse(readFileSync(join(ROOT, 'schemas/credit.contract.json'), 'utf8'));
  contract.provenance = { trustedKeys: ['trusted'], requireManifest: true };
  contractPath = join(work, 'credit.contract.json');
  writeFileSync(contractPath, JSON.stringify(contract));
  worker = await startWorkerProcess(prefix, ['--split', 'always', '--range-rows', '4000']);
  queue = new ScanQueue({ connection: { redisUrl: REDIS_URL, prefix } });
});

after(async () => {
  await queue?.close();
  await worker?.stop();
  await removeKeys(prefix);
  if (work) await rm(work, { recursive: true, force: true });
});

test('a missing manifest holds every row of every range, as in one process', async () => {
  const local = await scan({ input, contract: await loadContract(contractPath), checks: RULE_CHECKS, outDir: join(work, 'local') });
  assert.equal(local.report.verdict, 'fail');
  assert.equal(local.report.clean.rows, 0);

  const out = join(work, 'queued');
  const { id } = await queue.enqueue({ input, contract: contractPath, checks: RULE_CHECKS, outDir: out, auditLog: null });
  const status = await queue.wait(id, { timeoutMs: 60_000 });
  assert.equal(status.state, 'completed', status.failedReason ?? '');
  assert.equal(status.summary!.ranges, 3);
  assert.equal(status.summary!.verdict, 'fail');
  assert.equal(status.summary!.clean, 0);
  assert.equal(status.summary!.quarantined, local.report.input.rows);
  const queued = await quarantineOf(join(out, 'quarantine.parquet'));
  assert.deepEqual(queued, await quarantineOf(join(work, 'local', 'quarantine.parquet')));
  assert.ok([...queued.values()].every((reasons) => reasons.startsWith('provenance:missing')));
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
  assert.deepEqual(report.findings, local.report.findings);
});

// The queue's memory in a file, and in Redis as workers on several machines would keep it.
const memoryKinds: { name: string; queued: () => string }[] = [
  { name: 'a file', queued: () => join(work, 'queued.memory') },
  { name: 'Redis', queued: () => 'redis:queued-memory' },
];

for (const kind of memoryKinds) {
  test(`replay memory in ${kind.name}: a split scan remembers the same rows as an in-process scan`, async () => {
    // This process opens Redis stores where the workers do: the same Redis, the same key prefix.
    process.env.REDIS_URL = REDIS_URL;
    process.env.DATAWARDEN_QUEUE_PREFIX = prefix;
    const rules = join(ROOT, 'schemas/credit.contract.json');
    const localMemory = join(work, `local-${kind.name}.memory`);
    const queuedMemory = kind.queued();
    await scan({ input, contract: await loadContract(rules), checks: RULE_CHECKS, outDir: join(work, `local-memory-${kind.name}`), memory: localMemory });
    const { id } = await queue.enqueue({ input, contract: rules, checks: RULE_CHECKS, outDir: join(work, `queued-memory-${kind.name}`), memory: queuedMemory, auditLog: null });
    const status = await queue.wait(id, { timeoutMs: 60_000 });
    assert.equal(status.state, 'completed', status.failedReason ?? '');
    assert.equal(status.summary!.ranges, 3);
    // A second dataset against each memory: the rows both remembered come back the same way.
    const again = async (memory: string, name: string) =>
      (await scan({ input, contract: await loadContract(rules), checks: RULE_CHECKS, outDir: join(work, name), memory, auditLog: undefined })).report;
    const fromLocal = await again(localMemory, `again-local-${kind.name}`);
    const fromQueued = await again(queuedMemory, `again-queued-${kind.name}`);
    // Summaries hold timings; rows and reasons must agree.
    const flagged = (r: typeof fromLocal) => r.checks.map((c) => [c.id, c.flaggedRows, c.reasons]);
    assert.deepEqual(flagged(fromQueued), flagged(fromLocal));
    assert.deepEqual(fromQueued.findings, fromLocal.findings);
    assert.ok(fromLocal.findings.length > 0 || fromLocal.quarantine.rows > 0, 'the memory changes the second scan');
    if (queuedMemory.startsWith('redis:')) {
      // In Redis, under the queue's prefix; not a file that happens to carry the name.
      assert.equal(existsSync(join(ROOT, queuedMemory)), false);
      const redis = new Redis(REDIS_URL);
      try {
        assert.ok((await redis.hlen(`${prefix}:replay:queued-memory:bad`)) > 0);
      } finally {
        redis.disconnect();
      }
    }
  });
}
