// Integers past 2^53 (int64 ids): a double holds only the nearest of them, so ids 1 apart ran
// together. A scan flagged 39 of 40 distinct ids as duplicates, and wrote every clean id as
// 1234567890123456768. Every input format to every output format, ids compared as digits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { loadContract } from '../../src/contract/load.js';
import { connect, sqlString } from '../../src/io/duckdb.js';
import type { Format } from '../../src/io/formats.js';
import { convert } from '../../src/pipeline/convert.js';
import { scan } from '../../src/pipeline/scan.js';
import { openHyparquetSource } from '../../src/io/hyparquet-source.js';
import { tempDir } from '../helpers.js';

const BASE = 1234567890123456700n;
// Rows 0-39 hold 40 ids one apart; row 40 repeats row 7's id, the one duplicate.
const IDS = [...Array.from({ length: 40 }, (_, i) => BASE + BigInt(i)), BASE + 7n];
const FORMATS: readonly Format[] = ['csv', 'parquet', 'arrow', 'jsonl'];

async function idsIn(path: string, format: Format): Promise<string[]> {
  if (format === 'arrow') return Array.from(tableFromIPC(readFileSync(path)).getChild('id')!.toArray() as BigInt64Array, String);
  const reader = { csv: 'read_csv', parquet: 'read_parquet', jsonl: 'read_json' }[format as 'csv' | 'parquet' | 'jsonl'];
  const connection = await connect();
  try {
    return (await connection.rows(`SELECT id FROM ${reader}(${sqlString(path)})`)).map(([id]) => id!);
  } finally {
    connection.closeSync();
  }
}

test('int64 ids past 2^53 stay distinct and exact from every format to every format', async () => {
  const dir = await tempDir();
  const csv = join(dir, 'ids.csv');
  writeFileSync(csv, `id,x\n${IDS.map((id, i) => `${id},${i}`).join('\n')}\n`);
  const contractPath = join(dir, 'ids.contract.json');
  writeFileSync(contractPath, JSON.stringify({ name: 'ids', id: 'id', gate: { pass: 0.5, warn: 0.5 }, columns: [{ name: 'id', type: 'int' }, { name: 'x', type: 'int' }] }));
  const contract = await loadContract(contractPath);
  const cleanIds = IDS.slice(0, 40).map(String);
  for (const input of FORMATS) {
    const inputPath = join(dir, `ids.${input === 'arrow' ? 'arrow' : input}`);
    if (input !== 'csv') await convert(csv, inputPath);
    assert.deepEqual(await idsIn(inputPath, input), IDS.map(String), `${input} input`);
    for (const output of FORMATS) {
      const outDir = join(dir, `${input}-to-${output}`);
      const { report } = await scan({ input: inputPath, contract, outDir, format: output, checks: ['duplicate'] });
      assert.deepEqual(report.checks.find((c) => c.id === 'duplicate')!.reasons, { duplicate: 1 }, `${input} -> ${output}`);
      assert.deepEqual(await idsIn(join(outDir, `clean.${output}`), output), cleanIds, `${input} -> ${output}: clean ids`);
      assert.deepEqual(await idsIn(join(outDir, `quarantine.${output}`), output), [String(BASE + 7n)], `${input} -> ${output}: quarantined id`);
    }
  }
});

test('the fallback Parquet reader (hyparquet) keeps int64 ids past 2^53 exact too', async () => {
  const dir = await tempDir();
  const csv = join(dir, 'ids.csv');
  writeFileSync(csv, `id\n${IDS.join('\n')}\n`);
  const parquet = join(dir, 'ids.parquet');
  await convert(csv, parquet);
  const source = await openHyparquetSource(parquet, 'raw');
  const exact: string[] = [];
  for await (const batch of source.batches()) exact.push(...Array.from(batch.byName.get('id')!.exact!, String));
  await source.close();
  assert.deepEqual(exact, IDS.map(String));
});
