// convert between every pair of formats: values, nulls and logical types survive.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { convert } from '../../src/pipeline/convert.js';
import { FORMATS } from '../../src/io/formats.js';
import { tempDir } from '../helpers.js';
import { readAll, type ReadResult } from './read-all.js';

let work = '';
let original: ReadResult;
const SOURCE = 'source.parquet';

before(async () => {
  work = await tempDir();
  const db = await (await DuckDBInstance.create(':memory:')).connect();
  // Every logical type, with nulls, text that needs quoting, negative and fractional numbers.
  await db.run(`COPY (
    SELECT range::INTEGER AS n,
           CASE WHEN range % 5 = 0 THEN NULL ELSE range * 1.5 - 40 END AS x,
           ['plain', 'with, comma', 'quote "q"', 'line\nbreak', 'ünïcode'][range % 5 + 1] AS s,
           CASE WHEN range % 7 = 0 THEN NULL ELSE range % 2 = 0 END AS b,
           TIMESTAMP '2026-01-01 00:00:00' + INTERVAL (range * 3723) SECOND + INTERVAL (range * 17) MICROSECOND AS t,
           range * 1000000007 AS big
    FROM range(300)) TO '${join(work, SOURCE)}' (FORMAT parquet)`);
  db.closeSync();
  original = await readAll(join(work, SOURCE));
});

const extension = (format: string) => format;

for (const via of FORMATS) {
  for (const to of FORMATS) {
    test(`parquet -> ${via} -> ${to}: values and types kept`, async () => {
      const middle = join(work, `via-${via}-${to}.${extension(via)}`);
      const final = join(work, `final-${via}-${to}.${extension(to)}`);
      const first = await convert(join(work, SOURCE), middle);
      assert.equal(first.rows, 300);
      const second = await convert(middle, final);
      assert.equal(second.rows, 300);
      const result = await readAll(final);
      assert.deepEqual(result.columns.map((c) => [c.name, c.type]), original.columns.map((c) => [c.name, c.type]));
      for (const column of original.columns) assert.deepEqual(result.values[column.name], original.values[column.name], column.name);
    });
  }
}

test('convert refuses an unknown output extension without writing', async () => {
  await assert.rejects(convert(join(work, SOURCE), join(work, 'out.xlsx')), /unsupported file extension '\.xlsx'/);
});
