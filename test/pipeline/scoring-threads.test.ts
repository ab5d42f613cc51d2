// When a scan starts scoring threads: not when its rows are known to fit in one batch, since a
// thread would start too late to take a share of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitsOneBatch } from '../../src/pipeline/scan.js';

const cases: { name: string; declared: number | null; range?: { start: number; end: number }; batchRows: number; fits: boolean }[] = [
  { name: 'row count unknown (CSV, JSON Lines)', declared: null, batchRows: 65536, fits: false },
  { name: 'a small file', declared: 40000, batchRows: 65536, fits: true },
  { name: 'exactly one batch', declared: 65536, batchRows: 65536, fits: true },
  { name: 'one row more than a batch', declared: 65537, batchRows: 65536, fits: false },
  { name: 'small batches asked for', declared: 40000, batchRows: 1000, fits: false },
  { name: 'a small range of a large file', declared: 1_000_000, range: { start: 0, end: 50000 }, batchRows: 65536, fits: true },
  { name: 'a large range of a large file', declared: 1_000_000, range: { start: 900000, end: 1_000_000 }, batchRows: 65536, fits: false },
  { name: 'a range past the end holds only the rows there are', declared: 100_000, range: { start: 50000, end: 1_000_000 }, batchRows: 65536, fits: true },
  { name: 'a range of a file of unknown length', declared: null, range: { start: 200, end: 210 }, batchRows: 65536, fits: true },
];

for (const { name, declared, range, batchRows, fits } of cases) {
  test(`scoring threads: ${name}`, () => {
    assert.equal(fitsOneBatch(declared, range, batchRows), fits);
  });
}
