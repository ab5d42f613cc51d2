// A scan split into row ranges (as queue workers run it) folds into the same result as one scan:
// the same quarantined rows with the same reasons, counts and verdict, including duplicates
// whose first copy lies in an earlier range.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadContract } from '../../src/contract/load.js';
import { checkRange, completeScan, planScan, scan, type ScanOptions } from '../../src/pipeline/scan.js';
import { ROOT, tempDir } from '../helpers.js';
import { readAll } from '../io/read-all.js';
import { openSource } from '../../src/io/source.js';
import { openWriter } from '../../src/io/write/index.js';

function roundNumbers(value: unknown): unknown {
  if (typeof value === 'number') return Number.isFinite(value) ? Number(value.toPrecision(10)) : value;
  if (Array.isArray(value)) return value.map(roundNumbers);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, roundNumbers(v)]));
  }
  return value;
}

async function quarantineOf(path: string): Promise<[number, string][]> {
  const { values, rows } = await readAll(path, 'typed');
  return Array.from({ length: rows }, (_, r) => [Number(values._row![r]), String(values._reasons![r])]);
}

// Ranges start on multiples of the batch size (300 here), as queue fan-out cuts them, so every
// range sees the batches a whole scan sees (label-flip thresholds are per batch).
const cases = [
  { name: 'CSV, every check', input: 'datasets/credit/incoming.csv', format: 'csv', cuts: [0, 600, 1500, 2013] },
  { name: 'CSV, ranges of uneven size', input: 'datasets/credit/incoming.csv', format: 'csv', cuts: [0, 300, 1800, 2013] },
  { name: 'Parquet', input: 'datasets/credit/trusted.parquet', format: 'parquet', cuts: [0, 1200, 4000] },
];

for (const c of cases) {
  test(`ranges fold into the in-process result: ${c.name}`, async () => {
    await assertRangesFold(join(ROOT, c.input), c.format, c.cuts);
  });
}

test('ranges fold into the in-process result: an Arrow IPC file, cut on record batch boundaries, each range reading only its batches', async () => {
  const work = await tempDir();
  const input = join(work, 'incoming.arrow');
  // Record batches of 300 rows, as a scan's batches: the batches a range reads are the whole scan's.
  const source = await openSource(join(ROOT, 'datasets/credit/trusted.parquet'), 'typed');
  const writer = await openWriter(input, 'arrow', source.shape.columns.map((c) => ({ name: c.name, type: c.type!, sourceType: c.sourceType })));
  for await (const batch of source.batches({ batchRows: 300 })) await writer.write(batch);
  await writer.close();
  await source.close();
  const reopened = await openSource(input, 'raw');
  assert.equal(reopened.shape.declaredRows, 4000, 'rows declared by the batch headers');
  const rows = [];
  for await (const batch of reopened.batches({ range: { start: 1200, end: 1800 } })) rows.push([batch.rowOffset, batch.rowCount]);
  await reopened.close();
  assert.deepEqual(rows, [[1200, 300], [1500, 300]]);
  await assertRangesFold(input, 'arrow', [0, 1200, 2700, 4000]);
});

async function assertRangesFold(input: string, format: string, cuts: readonly number[]): Promise<void> {
  const work = await tempDir();
  const contract = await loadContract(join(ROOT, 'schemas/credit.contract.json'));
  const base = { input, contract, batchRows: 300, baseline: join(ROOT, 'datasets/credit/trusted.parquet') } as const;
  const whole = await scan({ ...base, outDir: join(work, 'whole') } satisfies ScanOptions);
  const options: ScanOptions = { ...base, outDir: join(work, 'split') };
  const plan = await planScan(options);
  const results = [];
  for (let i = 0; i + 1 < cuts.length; i++) results.push(await checkRange(plan, { start: cuts[i]!, end: cuts[i + 1]! }));
  const split = await completeScan(plan, results);
  assert.deepEqual(
    await quarantineOf(join(work, 'split', `quarantine.${format}`)),
    await quarantineOf(join(work, 'whole', `quarantine.${format}`)),
  );
  // State size is each worker's own memory, so it differs by design, and sums of floats taken
  // range by range differ in their last bits; everything else must be equal.
  const strip = (r: typeof whole.report) => roundNumbers({
    checks: r.checks.map((check) => ({ ...check, summary: { ...check.summary, stateBytes: undefined } })),
    quarantine: r.quarantine, clean: r.clean, verdict: r.verdict, findings: r.findings,
  });
  assert.deepEqual(strip(split.report), strip(whole.report));
  const wholeClean = await readAll(join(work, 'whole', `clean.${format}`));
  const splitClean = await readAll(join(work, 'split', `clean.${format}`));
  assert.deepEqual(splitClean.values, wholeClean.values);
}

test('ranges fold into the in-process result: allowDuplicateRows lets repeated content through in every range, and a repeated id is flagged across ranges', async () => {
  const work = await tempDir();
  const input = join(work, 'events.csv');
  // Rows 0-5 repeat one content; row 4 repeats row 1's id, in another range.
  writeFileSync(input, 'id,v\n1,7\n2,7\n3,7\n4,7\n2,7\n5,7\n');
  const contractPath = join(work, 'events.contract.json');
  writeFileSync(contractPath, JSON.stringify({ name: 'events', id: 'id', allowDuplicateRows: true, gate: { pass: 0.5, warn: 0.5 }, columns: [{ name: 'id', type: 'int' }, { name: 'v', type: 'int' }] }));
  const base = { input, contract: await loadContract(contractPath), batchRows: 2, checks: ['duplicate'] } as const;
  const whole = await scan({ ...base, outDir: join(work, 'whole') });
  const plan = await planScan({ ...base, outDir: join(work, 'split') });
  const split = await completeScan(plan, [await checkRange(plan, { start: 0, end: 2 }), await checkRange(plan, { start: 2, end: 6 })]);
  assert.deepEqual(await quarantineOf(join(work, 'whole', 'quarantine.csv')), [[4, 'duplicate']]);
  assert.deepEqual(await quarantineOf(join(work, 'split', 'quarantine.csv')), [[4, 'duplicate']]);
  assert.equal(split.report.quarantine.rows, whole.report.quarantine.rows);
});
