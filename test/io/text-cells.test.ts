// Text formats are read as text, one string a row from DuckDB split into cells here: every cell
// must come back as written, ASCII or not, with nulls, quotes, separators and line breaks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSource, textBatchRows } from '../../src/io/source.js';
import { tempDir } from '../helpers.js';

type Cells = Record<string, [values: string[], valid: number[] | null]>;

async function readCells(path: string): Promise<Cells> {
  const source = await openSource(path, 'raw');
  const cells: Cells = {};
  try {
    for await (const batch of source.batches()) {
      for (const c of batch.columns) cells[c.name] = [c.values as string[], c.valid && [...c.valid]];
    }
  } finally {
    await source.close();
  }
  return cells;
}

test('CSV cells read as written: multi-byte text, quotes, commas, line breaks, padding and nulls', async () => {
  const path = join(await tempDir(), 'cells.csv');
  writeFileSync(path, [
    'id,name,note,x',
    '1,Zoë,"a, b",1.5',
    '2,,"",-0',
    '3,"日本語テキストの長い値です","line\nbreak",',
    '4,🙂 emoji here and more,"say ""hi""",1e3',
    '5,short,  padded  ,nan',
  ].join('\n') + '\n');
  assert.deepEqual(await readCells(path), {
    id: [['1', '2', '3', '4', '5'], null],
    name: [['Zoë', '', '日本語テキストの長い値です', '🙂 emoji here and more', 'short'], [1, 0, 1, 1, 1]],
    note: [['a, b', '', 'line\nbreak', 'say "hi"', '  padded  '], [1, 0, 1, 1, 1]],
    x: [['1.5', '-0', '', '1e3', 'nan'], [1, 1, 0, 1, 1]],
  });
});

test('JSON Lines cells read as their JSON text, a missing key as a null', async () => {
  const path = join(await tempDir(), 'cells.jsonl');
  writeFileSync(path, [
    '{"id":1,"name":"Zoë","note":"a, b","x":1.5}',
    '{"id":2,"name":null,"note":"","x":-0}',
    '{"id":3,"name":"日本語テキストの長い値です","note":"line\\nbreak"}',
    '{"id":4,"name":"🙂 emoji here and more","note":"say \\"hi\\"","x":1e3}',
  ].join('\n') + '\n');
  assert.deepEqual(await readCells(path), {
    id: [['1', '2', '3', '4'], null],
    name: [['"Zoë"', '', '"日本語テキストの長い値です"', '"🙂 emoji here and more"'], [1, 0, 1, 1]],
    note: [['"a, b"', '""', '"line\\nbreak"', '"say \\"hi\\""'], null],
    x: [['1.5', '0', '', '1000.0'], [1, 1, 0, 1]],
  });
});

test('text batches hold fewer rows as tables get wider, so a batch holds about as many cells', async () => {
  const cases: [columns: number, rows: number][] = [[1, 16384], [14, 16384], [16, 16384], [17, 15420], [200, 1310], [301, 1024], [1000, 1024]];
  assert.deepEqual(cases.map(([columns]) => [columns, textBatchRows(columns)]), cases);
  // A 40-column CSV of 10,000 rows comes in batches of 6,553 rows, every cell as written.
  const path = join(await tempDir(), 'wide.csv');
  const names = Array.from({ length: 40 }, (_, c) => `c${c}`);
  writeFileSync(path, [names.join(','), ...Array.from({ length: 10_000 }, (_, r) => names.map((_, c) => `${r}.${c}`).join(','))].join('\n') + '\n');
  const source = await openSource(path, 'raw');
  const sizes: number[] = [];
  try {
    for await (const batch of source.batches()) {
      sizes.push(batch.rowCount);
      const last = batch.columns[39]!.values as string[];
      assert.equal(last[0], `${batch.rowOffset}.39`);
    }
  } finally {
    await source.close();
  }
  assert.deepEqual(sizes, [6553, 3447]);
});
