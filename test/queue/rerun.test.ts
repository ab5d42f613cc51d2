// A dataset job run again after its worker died while completing: if this job's report is
// already written and recorded in the audit log, the rerun returns it and writes nothing; if it
// is not recorded, the scan is done again, once. Driven with a stand-in job, no Redis needed.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadContract } from '../../src/contract/load.js';
import { scan } from '../../src/pipeline/scan.js';
import type { FanOut, ScanJobData } from '../../src/queue/jobs.js';
import { processScanJob, type ProcessorContext, type QueueJob } from '../../src/queue/scan-job.js';
import { jobSettings } from '../../src/queue/settings.js';
import { ROOT, tempDir } from '../helpers.js';
import { RULE_CHECKS } from './helpers.js';

const INPUT = join(ROOT, 'datasets/credit/incoming.csv');
const CONTRACT = join(ROOT, 'schemas/credit.contract.json');
const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

function standIn(data: ScanJobData): QueueJob<ScanJobData> & { updates: ScanJobData[] } {
  const updates: ScanJobData[] = [];
  return {
    id: 'scan-standin', name: 'scan', data, timestamp: Date.now() - 120_000, opts: {}, queueQualifiedName: 'p:scans', updates,
    async updateData(next) { updates.push(next); },
    async updateProgress() {},
    async moveToWaitingChildren() { throw new Error('a completing job does not wait for children'); },
    // The range results were removed at the end of the first run.
    async getChildrenValues<C>() { return {} as Record<string, C>; },
  };
}

const context: ProcessorContext = {
  flows: () => { throw new Error('no range job may be added'); },
  shouldSplit: async () => false,
  rangeRows: 500_000,
  jobSettings: jobSettings({}, {}),
  log: pino({ level: 'silent' }),
};

async function firstRun(): Promise<{ out: string; auditLog: string; data: ScanJobData }> {
  const work = await tempDir();
  dirs.push(work);
  const out = join(work, 'out');
  const auditLog = join(work, 'audit.jsonl');
  const completingAt = Date.now() - 1000;
  const { report } = await scan({ input: INPUT, contract: await loadContract(CONTRACT), checks: RULE_CHECKS, outDir: out, auditLog });
  const fanOut: FanOut = {
    round: 1, outDir: out, sha256: report.input.sha256, bytes: report.input.bytes, startedAt: completingAt - 5000,
    findings: [], ranges: [{ start: 0, end: 1000 }, { start: 1000, end: 2013 }], added: true, completingAt,
  };
  return { out, auditLog, data: { request: { input: INPUT, contract: CONTRACT, outDir: out, checks: RULE_CHECKS, auditLog }, rounds: 1, fanOut } };
}

test('a job whose worker died after writing and auditing its outputs returns that report, and writes nothing again', async () => {
  const { out, auditLog, data } = await firstRun();
  const reportTime = statSync(join(out, 'report.json')).mtimeMs;
  const job = standIn(data);
  const summary = await processScanJob(job, 'token', context);
  assert.equal(summary.rows, 2013);
  assert.equal(summary.quarantined, 65);
  assert.equal(summary.ranges, 2);
  assert.equal(readFileSync(auditLog, 'utf8').trim().split('\n').length, 1, 'still one audit record');
  assert.equal(statSync(join(out, 'report.json')).mtimeMs, reportTime, 'the report was not rewritten');
  assert.deepEqual(job.updates, []);
});

test('a report that never reached the audit log is not taken as done: the scan runs again, once', async () => {
  const { out, auditLog, data } = await firstRun();
  await rm(auditLog);
  const job = standIn(data);
  const summary = await processScanJob(job, 'token', context);
  assert.equal(summary.quarantined, 65);
  assert.equal(readFileSync(auditLog, 'utf8').trim().split('\n').length, 1);
  // Results missing: the job started over (here as one scan, as nothing is split) and says so in Redis.
  assert.equal(job.updates.at(-1)?.fanOut, undefined);
  assert.ok(job.updates.at(-1)?.completingAt !== undefined);
  assert.equal(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).quarantine.rows, 65);
});
