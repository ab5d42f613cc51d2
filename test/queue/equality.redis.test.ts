// The queue's result equals an in-process scan's: the same counts, the same quarantined `_row`
// set with the same reasons, the same verdict and the same clean rows. On the shipped example
// CSV (one range), and on a generated Parquet file with many row groups and the same rows as an
// Arrow IPC file with many record batches, split into range jobs that two workers check in
// parallel, duplicates crossing ranges included. Every check runs,
// detectors too: the dataset job fits (or loads) the model once and its range jobs apply it.
// Also int64 ids past 2^53, whose doubles run together, split into ranges the same way.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadContract } from '../../src/contract/load.js';
import { fit, saveModel } from '../../src/pipeline/fit.js';
import { scan, type ScanOptions } from '../../src/pipeline/scan.js';
import { connect, sqlString } from '../../src/io/duckdb.js';
import { openSource } from '../../src/io/source.js';
import { openWriter } from '../../src/io/write/index.js';
import { ScanQueue } from '../../src/queue/client.js';
import { ROOT, tempDir } from '../helpers.js';
import { readAll } from '../io/read-all.js';
import { quarantineOf, removeKeys, requireRedis, startWorkerProcess, uniquePrefix, writeCreditParquet, REDIS_URL, type WorkerProcess } from './helpers.js';

const CONTRACT = join(ROOT, 'schemas/credit.contract.json');
const prefix = uniquePrefix('equality');
const workers: WorkerProcess[] = [];
let queue: ScanQueue;
let work: string;
let parquet: string;
let arrow: string;
let modelPath: string;

before(async () => {
  await requireRedis();
  work = await tempDir();
  parquet = join(work, 'credit-many-groups.parquet');
  await writeCreditParquet(parquet, 4, 2048);
  arrow = join(work, 'credit-many-batches.arrow');
  const rows = await openSource(parquet, 'typed');
  const writer = await openWriter(arrow, 'arrow', rows.shape.columns.map((c) => ({ name: c.name, type: c.type!, sourceType: c.sourceType })));
  for await (const batch of rows.batches({ batchRows: 2048 })) await writer.write(batch);
  await writer.close();
  await rows.close();
  modelPath = join(work, 'credit.model.json');
  const contract = await loadContract(CONTRACT);
  await saveModel(await fit({ dataset: join(ROOT, 'datasets/credit/trusted.parquet'), contract, seed: 42 }), modelPath);
  // Two workers that always split, ranges of about 4000 rows: the 16k-row file becomes four range
  // jobs (CSV is never split).
  for (let i = 0; i < 2; i++) workers.push(await startWorkerProcess(prefix, ['--range-rows', '4000', '--split', 'always']));
  queue = new ScanQueue({ connection: { redisUrl: REDIS_URL, prefix } });
});

after(async () => {
  await queue?.close();
  await Promise.all(workers.map((w) => w.stop()));
  await removeKeys(prefix);
  if (work) await rm(work, { recursive: true, force: true });
});

const cases: { name: string; input: () => string; ext: string; ranges: number; model?: boolean }[] = [
  { name: 'the shipped example CSV', input: () => join(ROOT, 'datasets/credit/incoming.csv'), ext: 'csv', ranges: 1 },
  { name: 'a generated Parquet file with many row groups', input: () => parquet, ext: 'parquet', ranges: 4 },
  { name: 'the Parquet file with a saved model (--model)', input: () => parquet, ext: 'parquet', ranges: 4, model: true },
  { name: 'the same rows as an Arrow IPC file with many record batches', input: () => arrow, ext: 'arrow', ranges: 4 },
];

for (const c of cases) {
  test(`queue and in-process scans agree: ${c.name}`, async () => {
    const contract = await loadContract(CONTRACT);
    const name = `${c.ext}${c.model ? '-model' : ''}`;
    const localOut = join(work, `${name}-local`);
    const options: ScanOptions = { input: c.input(), contract, outDir: localOut, ...(c.model ? { modelPath } : {}) };
    const local = await scan(options);

    const out = join(work, `${name}-queued`);
    const { id } = await queue.enqueue({ input: c.input(), contract: CONTRACT, outDir: out, auditLog: null, ...(c.model ? { modelPath } : {}) });
    const status = await queue.wait(id, { timeoutMs: 60_000 });
    assert.equal(status.state, 'completed', status.failedReason ?? '');
    const summary = status.summary!;
    assert.equal(summary.ranges, c.ranges, 'range jobs the dataset was split into');

    const report = local.report;
    assert.deepEqual(
      { rows: summary.rows, clean: summary.clean, quarantined: summary.quarantined, verdict: summary.verdict, exitCode: summary.exitCode },
      { rows: report.input.rows, clean: report.clean.rows, quarantined: report.quarantine.rows, verdict: report.verdict, exitCode: report.exitCode },
    );
    assert.ok(summary.quarantined > 0 && summary.clean > 0);
    const queuedQuarantine = await quarantineOf(join(out, `quarantine.${c.ext}`));
    const localQuarantine = await quarantineOf(join(localOut, `quarantine.${c.ext}`));
    assert.deepEqual([...queuedQuarantine].sort((a, b) => a[0] - b[0]), [...localQuarantine].sort((a, b) => a[0] - b[0]));
    const queuedClean = await readAll(join(out, `clean.${c.ext}`));
    const localClean = await readAll(join(localOut, `clean.${c.ext}`));
    assert.deepEqual(queuedClean.values, localClean.values);

    const queuedReport = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as typeof report;
    const perCheck = (r: typeof report) => r.checks.map((check) => [check.id, check.flaggedRows, check.reasons]);
    assert.deepEqual(perCheck(queuedReport), perCheck(report));
    assert.deepEqual(queuedReport.findings, report.findings);
    assert.equal(queuedReport.input.sha256, report.input.sha256);
    // The same model, from the same place: fitted on the input, or the saved file (same bytes).
    const model = (r: typeof report) => r.model as { source?: string; path?: string; sha256?: string } | undefined;
    assert.equal(model(queuedReport)?.source, model(report)?.source);
    assert.equal(model(queuedReport)?.path, model(report)?.path);
    if (c.model) assert.equal(model(queuedReport)?.sha256, model(report)?.sha256);
    // The range results were folded and removed; nothing temporary is left in the out dir.
    assert.deepEqual(readdirSync(out).sort(), ['clean', 'quarantine', 'report'].flatMap((n) => (n === 'report' ? ['report.json', 'report.md'] : [`${n}.${c.ext}`])).sort());
  });
}

test('queue and in-process scans agree on int64 ids past 2^53, repeated ids crossing ranges, with repeated content allowed', async () => {
  // 16,384 rows in 8 row groups: ids one apart past 2^53; rows 9000 and 15000 repeat the ids of
  // rows 10 and 8000, in other range jobs; the content column repeats every 7 rows (allowed).
  const base = 1234567890123456700n;
  const ids = Array.from({ length: 16384 }, (_, i) => base + BigInt(i === 9000 ? 10 : i === 15000 ? 8000 : i));
  const csv = join(work, 'ids.csv');
  writeFileSync(csv, `id,x\n${ids.map((id, i) => `${id},${i % 7}`).join('\n')}\n`);
  const input = join(work, 'ids.parquet');
  const connection = await connect();
  await connection.run(`COPY (SELECT * FROM read_csv(${sqlString(csv)})) TO ${sqlString(input)} (FORMAT parquet, ROW_GROUP_SIZE 2048)`);
  connection.closeSync();
  const contractPath = join(work, 'ids.contract.json');
  writeFileSync(contractPath, JSON.stringify({ name: 'ids', id: 'id', allowDuplicateRows: true, gate: { pass: 0.5, warn: 0.5 }, columns: [{ name: 'id', type: 'int' }, { name: 'x', type: 'int' }] }));
  const checks = ['schema', 'duplicate'];
  const localOut = join(work, 'ids-local');
  await scan({ input, contract: await loadContract(contractPath), outDir: localOut, checks });
  const out = join(work, 'ids-queued');
  const { id } = await queue.enqueue({ input, contract: contractPath, outDir: out, auditLog: null, checks });
  const status = await queue.wait(id, { timeoutMs: 60_000 });
  assert.equal(status.state, 'completed', status.failedReason ?? '');
  assert.equal(status.summary!.ranges, 4, 'range jobs the dataset was split into');
  for (const dir of [localOut, out]) {
    assert.deepEqual([...(await quarantineOf(join(dir, 'quarantine.parquet')))].sort((a, b) => a[0] - b[0]), [[9000, 'duplicate'], [15000, 'duplicate']], dir);
    const clean = (await connectRows(`SELECT id FROM read_parquet(${sqlString(join(dir, 'clean.parquet'))})`)).map(([value]) => value);
    assert.deepEqual(clean, ids.filter((_, i) => i !== 9000 && i !== 15000).map(String), dir);
  }
});

async function connectRows(sql: string): Promise<(string | null)[][]> {
  const connection = await connect();
  try {
    return await connection.rows(sql);
  } finally {
    connection.closeSync();
  }
}
