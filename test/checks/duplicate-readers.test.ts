// The duplicate check hashes rows itself, or takes the hashes DuckDB computes as it reads
// (Parquet, CSV, JSON Lines). Both must flag the same rows: equal values equal, -0 and 0 one
// value, NaN one value, null apart from '', and column order mattering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadContract } from '../../src/contract/load.js';
import { hashKey, makeBatch } from '../../src/core/types.js';
import { openSource } from '../../src/io/source.js';
import { openWriter } from '../../src/io/write/index.js';
import { scan } from '../../src/pipeline/scan.js';
import { tempDir } from '../helpers.js';
import { readAll } from '../io/read-all.js';
import { columnOf } from './harness.js';

const ROWS: readonly (readonly [id: string, a: number, b: number, c: string | null])[] = [
  ['r0', 0.5, 1, 'x'],
  ['r1', 0.5, 1, 'x'], // content of row 0 under another id
  ['r2', -0, 1, 'x'],
  ['r3', 0, 1, 'x'], // -0 and 0 are one value
  ['r4', NaN, 2, 'y'],
  ['r5', NaN, 2, 'y'], // NaN equals NaN
  ['r6', 1, 2, null],
  ['r7', 1, 2, ''], // '' is not null
  ['r8', 2, 1, 'x'],
  ['r9', 1, 2, 'x'], // row 8's values in other columns
  ['r0', 9, 9, 'z'], // row 0's id again
  ['r11', 1, 2, null], // row 6 again
];

const CONTRACT = {
  name: 'dups', id: 'id', gate: { pass: 1, warn: 1 },
  columns: [
    { name: 'id', type: 'string' },
    { name: 'a', type: 'float', nullable: true },
    { name: 'b', type: 'int' },
    { name: 'c', type: 'string', nullable: true },
  ],
};

async function writeTyped(path: string, format: 'parquet' | 'arrow'): Promise<void> {
  const columns = [
    columnOf('id', 'string', ROWS.map((r) => r[0])),
    columnOf('a', 'float', ROWS.map((r) => r[1])),
    columnOf('b', 'int', ROWS.map((r) => r[2])),
    columnOf('c', 'string', ROWS.map((r) => r[3])),
  ];
  const writer = await openWriter(path, format, columns.map((c) => ({ name: c.name, type: c.type, sourceType: c.sourceType })));
  // Small batches: copies must be found across batches as well as within one.
  for (let from = 0; from < ROWS.length; from += 5) {
    const to = Math.min(ROWS.length, from + 5);
    await writer.write(makeBatch(from, to - from, columns.map((c) => ({
      ...c,
      valid: c.valid && c.valid.slice(from, to),
      values: c.values.slice(from, to),
    } as typeof c))));
  }
  await writer.close();
}

async function flaggedRows(input: string): Promise<number[]> {
  const work = await tempDir();
  const contractPath = join(work, 'dups.contract.json');
  writeFileSync(contractPath, JSON.stringify(CONTRACT));
  const { report } = await scan({ input, contract: await loadContract(contractPath), outDir: join(work, 'out'), checks: ['duplicate'], batchRows: 4 });
  const format = input.slice(input.lastIndexOf('.') + 1);
  const { values, rows } = await readAll(join(work, 'out', `quarantine.${format}`), 'typed');
  assert.equal(report.quarantine.rows, rows);
  return Array.from({ length: rows }, (_, r) => Number(values._row![r]));
}

/** Whether the reader hands the content hashes over, i.e. which of the two paths a format takes. */
async function readerHashes(input: string): Promise<boolean> {
  const source = await openSource(input, 'raw');
  const content = ['a', 'b', 'c'];
  try {
    for await (const batch of source.batches({ hashColumns: [content] })) return batch.rowHashes?.has(hashKey(content)) === true;
    return false;
  } finally {
    await source.close();
  }
}

test('duplicate: hashes from DuckDB (Parquet) and our own (Arrow) flag the same rows', async () => {
  const work = await tempDir();
  const parquet = join(work, 'rows.parquet');
  const arrow = join(work, 'rows.arrow');
  await writeTyped(parquet, 'parquet');
  await writeTyped(arrow, 'arrow');
  assert.equal(await readerHashes(parquet), true);
  assert.equal(await readerHashes(arrow), false);
  assert.deepEqual(await flaggedRows(parquet), [1, 3, 5, 10, 11]);
  assert.deepEqual(await flaggedRows(arrow), [1, 3, 5, 10, 11]);
});

test('duplicate: CSV rows hashed by DuckDB compare the text as written', async () => {
  const work = await tempDir();
  const csv = join(work, 'rows.csv');
  const text = (v: number | string | null) => (v === null ? '' : Object.is(v, -0) ? '-0' : String(v));
  writeFileSync(csv, ['id,a,b,c', ...ROWS.map((r) => r.map(text).join(','))].join('\n') + '\n');
  assert.equal(await readerHashes(csv), true);
  // As text, "-0" and "0" differ (row 3 stays), and an empty field is a null in both rows 6 and 7.
  assert.deepEqual(await flaggedRows(csv), [1, 5, 7, 10, 11]);
});
