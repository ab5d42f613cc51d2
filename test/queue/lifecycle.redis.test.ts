// Workers that stop: SIGTERM lets the active job finish and exits 0; a worker killed with SIGKILL
// (during a range job, or while the dataset job writes its outputs) loses its job to another
// worker, and the scan completes exactly once: whole outputs equal to an in-process scan's, one
// audit record, nothing temporary left behind.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadContract } from '../../src/contract/load.js';
import { scan } from '../../src/pipeline/scan.js';
import { ScanQueue, type ScanJobStatus } from '../../src/queue/client.js';
import { ROOT, tempDir } from '../helpers.js';
import { readAll } from '../io/read-all.js';
import {
  alive, childPids, quarantineOf, removeKeys, requireRedis, startWorkerProcess, uniquePrefix, until, writeCreditParquet, REDIS_URL,
  RULE_CHECKS, type WorkerProcess,
} from './helpers.js';

const CONTRACT = join(ROOT, 'schemas/credit.contract.json');
// Short locks, so a killed worker's job is taken over in seconds rather than 30.
const FAST_RECOVERY = ['--lock-duration', '1500'];
// One worker would scan a dataset whole (see --split auto); these tests are about range jobs.
const SPLIT = ['--split', 'always'];
const workers: WorkerProcess[] = [];
const prefixes: string[] = [];
let work: string;
let input: string;
let local: Awaited<ReturnType<typeof scan>>;

before(async () => {
  await requireRedis();
  work = await tempDir();
  input = join(work, 'credit-600k.parquet');
  await writeCreditParquet(input, 150, 50_000);
  local = await scan({ input, contract: await loadContract(CONTRACT), checks: RULE_CHECKS, outDir: join(work, 'local') });
});

after(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  for (const prefix of prefixes) await removeKeys(prefix);
  if (work) await rm(work, { recursive: true, force: true });
});

async function worker(prefix: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<WorkerProcess> {
  const started = await startWorkerProcess(prefix, args, env);
  workers.push(started);
  return started;
}

function queueFor(label: string): { queue: ScanQueue; prefix: string } {
  const prefix = uniquePrefix(label);
  prefixes.push(prefix);
  return { queue: new ScanQueue({ connection: { redisUrl: REDIS_URL, prefix } }), prefix };
}

/** Outputs are whole, equal the in-process scan's, and were recorded once. */
async function assertCompletedOnce(out: string, auditLog: string, status: ScanJobStatus): Promise<void> {
  assert.equal(status.state, 'completed', status.failedReason ?? '');
  assert.deepEqual(readdirSync(out).sort(), ['clean.parquet', 'quarantine.parquet', 'report.json', 'report.md']);
  const reportText = readFileSync(join(out, 'report.json'), 'utf8');
  const report = JSON.parse(reportText);
  assert.equal(report.quarantine.rows, local.report.quarantine.rows);
  assert.equal(report.clean.rows, local.report.clean.rows);
  assert.equal(report.verdict, local.report.verdict);
  const clean = await readAll(join(out, 'clean.parquet'));
  assert.equal(clean.rows, local.report.clean.rows);
  assert.deepEqual(await quarantineOf(join(out, 'quarantine.parquet')), await quarantineOf(join(work, 'local', 'quarantine.parquet')));
  const records = readFileSync(auditLog, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
  assert.equal(records.length, 1, 'one audit record');
  assert.equal(records[0].reportSha256, createHash('sha256').update(reportText).digest('hex'));
}

async function killHard(victim: WorkerProcess): Promise<void> {
  const forked = childPids(victim.pid);
  assert.ok(forked.length > 0, 'the worker runs its job in a forked process');
  victim.child.kill('SIGKILL');
  assert.equal(await victim.exited, 'SIGKILL');
  // The forked processor notices its worker is gone and stops too.
  await until(async () => (forked.some(alive) ? undefined : true), 5000, 'the forked processor to exit');
}

for (const moment of ['during a range job', 'while the dataset job writes its outputs'] as const) {
  test(`SIGKILL ${moment}: another worker completes the scan exactly once`, async () => {
    const { queue, prefix } = queueFor('kill');
    try {
      const out = join(work, `out-${moment.split(' ')[1]}`);
      const auditLog = join(work, `audit-${moment.split(' ')[1]}.jsonl`);
      const first = await worker(prefix, [...FAST_RECOVERY, ...SPLIT, '--range-rows', moment === 'during a range job' ? '100000' : '300000']);
      const { id } = await queue.enqueue({ input, contract: CONTRACT, checks: RULE_CHECKS, outDir: out, auditLog });
      const atKill = await until(async () => {
        const status = await queue.status(id);
        if (!status?.ranges) return undefined;
        if (moment === 'during a range job') return status.state === 'waiting-children' && status.ranges.done >= 1 ? status : undefined;
        return status.state === 'active' && status.ranges.done === status.ranges.total ? status : undefined;
      }, 60_000, `the moment ${moment}`);
      await killHard(first);
      assert.ok(atKill.ranges!.done < atKill.ranges!.total || atKill.state === 'active');
      await worker(prefix, FAST_RECOVERY);
      const status = await queue.wait(id, { timeoutMs: 60_000 });
      await assertCompletedOnce(out, auditLog, status);
    } finally {
      await queue.close();
    }
  });
}

test('SIGTERM: the worker finishes its active job, then exits 0', async () => {
  const { queue, prefix } = queueFor('term');
  try {
    const out = join(work, 'out-term');
    const first = await worker(prefix, [...SPLIT, '--range-rows', '100000']);
    const { id } = await queue.enqueue({ input, contract: CONTRACT, checks: RULE_CHECKS, outDir: out, auditLog: join(work, 'audit-term.jsonl') });
    const active = await until(async () => {
      const jobs = await queue.queue.getActive();
      return jobs.find((job) => job.name === 'range');
    }, 30_000, 'a range job to be active');
    first.child.kill('SIGTERM');
    assert.equal(await first.exited, 0);
    const log = first.log();
    const finishing = log.indexOf('"finishing the active jobs, then exiting"');
    const completed = log.indexOf(`"jobId":"${active.id}","job":"range","msg":"job completed"`);
    assert.ok(finishing >= 0 && completed > finishing, `the active range job completed after the signal:\n${log}`);
    // The rest of the scan waits for the next worker.
    await worker(prefix, []);
    const status = await queue.wait(id, { timeoutMs: 60_000 });
    assert.equal(status.state, 'completed');
    assert.equal(status.summary!.rows, local.report.input.rows);
  } finally {
    await queue.close();
  }
});

test('--split auto: rule checks, one worker, or workers on one machine run whole; detectors with an idle worker elsewhere split', async () => {
  const { queue, prefix } = queueFor('auto');
  try {
    const small = join(work, 'credit-16k.parquet');
    await writeCreditParquet(small, 4, 2048);
    const ranges = async (name: string, checks?: string[]) => {
      const { id } = await queue.enqueue({ input: small, contract: CONTRACT, outDir: join(work, name), auditLog: null, ...(checks ? { checks } : {}) });
      const status = await queue.wait(id, { timeoutMs: 60_000 });
      assert.equal(status.state, 'completed', status.failedReason ?? '');
      return status.summary!.ranges;
    };
    await worker(prefix, ['--range-rows', '4000']);
    assert.equal(await ranges('auto-one-worker'), 1, 'one worker: nobody to share ranges with');
    await worker(prefix, ['--range-rows', '4000']);
    assert.equal(await ranges('auto-same-host'), 1, 'a second worker on this machine: its cores are the scan\'s scoring threads already');
    await worker(prefix, ['--range-rows', '4000'], { DATAWARDEN_WORKER_HOST: 'another-machine' });
    assert.equal(await ranges('auto-rules', RULE_CHECKS), 1, 'rule checks: reading twice costs more than checking');
    assert.equal(await ranges('auto-detectors'), 4, 'detectors, a worker idle on another machine: split');
  } finally {
    await queue.close();
  }
});
