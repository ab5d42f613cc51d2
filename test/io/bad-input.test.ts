// Broken inputs: every one ends in exit 3 with one line on stderr naming the file, no hang,
// no partial read, and nothing written to the output directory.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { PARQUET_TESTING, ROOT, runCli, tempDir } from '../helpers.js';

let work = '';
let contract = '';
/** A 1M-row snappy Parquet file, the size at which a corrupt page made a reader stop early. */
let bigParquet = '';

before(async () => {
  work = await tempDir();
  contract = join(work, 'any.contract.json');
  writeFileSync(contract, JSON.stringify({
    name: 'any', gate: { pass: 0.01, warn: 0.05 }, allowExtraColumns: true,
    columns: [{ name: 'x', type: 'int', required: false }],
  }));
  bigParquet = join(work, 'big.parquet');
  const db = await (await DuckDBInstance.create(':memory:')).connect();
  await db.run(`COPY (SELECT range AS id, random() AS a, random() AS b, (range % 7)::INTEGER AS c FROM range(1000000)) TO '${bigParquet}' (FORMAT parquet, COMPRESSION snappy)`);
  db.closeSync();
});

async function expectOneLineError(input: string, pattern?: RegExp): Promise<string> {
  const out = join(work, `out-${Math.random().toString(36).slice(2)}`);
  const result = await runCli(['scan', input, '--contract', contract, '--out', out]);
  assert.equal(result.code, 3, `exit code for ${input}; stderr: ${result.stderr}`);
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got: ${result.stderr}`);
  assert.ok(lines[0]!.includes(input), `the error names the file: ${lines[0]}`);
  assert.doesNotMatch(lines[0]!, /internal error|at .*\.js:\d+/);
  if (pattern) assert.match(lines[0]!, pattern);
  assert.equal(result.stdout, '');
  // Nothing that looks finished, and no temporary leftovers either.
  assert.ok(!existsSync(out) || readdirSync(out).length === 0, `output dir holds ${existsSync(out) ? readdirSync(out).join(', ') : ''}`);
  return lines[0]!;
}

/** bad_data files and what each must be refused for. ARROW-GH-43605 reads (see parquet-testing.test). */
const BAD_DATA: Record<string, RegExp> = {
  'ARROW-GH-41317.parquet': /unsupported: nested column list_boolean/,
  'ARROW-GH-41321.parquet': /unsupported: nested column list_boolean/,
  'ARROW-GH-45185.parquet': /unsupported: nested column x/,
  'ARROW-GH-47662.parquet': /cannot read/,
  'ARROW-RS-GH-6229-DICTHEADER.parquet': /cannot read/,
  'ARROW-RS-GH-6229-LEVELS.parquet': /unsupported: nested column outer/,
  'PARQUET-1481.parquet': /cannot read/,
};

test('every bad_data file is named in the table above', () => {
  const files = readdirSync(join(PARQUET_TESTING, 'bad_data')).filter((f) => f.endsWith('.parquet'));
  assert.deepEqual(files.filter((f) => f !== 'ARROW-GH-43605.parquet').sort(), Object.keys(BAD_DATA).sort());
});

for (const [file, pattern] of Object.entries(BAD_DATA)) {
  test(`bad_data/${file}: exit 3, one line`, async () => {
    await expectOneLineError(join(PARQUET_TESTING, 'bad_data', file), pattern);
  });
}

const corruptions: Record<string, (bytes: Buffer) => Buffer> = {
  'truncated footer': (b) => b.subarray(0, b.length - 1000),
  'cut in half': (b) => b.subarray(0, Math.floor(b.length / 2)),
  'zeroed header': (b) => { const c = Buffer.from(b); c.fill(0, 0, 100); return c; },
  'zeroed page in the middle': (b) => { const c = Buffer.from(b); c.fill(0, c.length >> 1, (c.length >> 1) + 65536); return c; },
  // This is the damage after which a streaming reader returned about a third of the rows with
  // no error; the declared row count catches it.
  'garbage in the middle': (b) => {
    const c = Buffer.from(b);
    let seed = 7;
    for (let i = 0; i < 65536; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      c[(c.length >> 1) + i] = seed & 0xff;
    }
    return c;
  },
};

for (const [name, corrupt] of Object.entries(corruptions)) {
  test(`parquet, ${name}: exit 3, one line`, async () => {
    const path = join(work, `${name.replaceAll(' ', '-')}.parquet`);
    writeFileSync(path, corrupt(readFileSync(bigParquet)));
    await expectOneLineError(path);
  });
}

test('arrow file and stream, truncated: exit 3, one line', async () => {
  const arrow = join(work, 'credit.arrow');
  const stream = join(work, 'credit.arrows');
  for (const target of [arrow, stream]) {
    const converted = await runCli(['convert', join(ROOT, 'datasets/credit/incoming.csv'), target]);
    assert.equal(converted.code, 0, converted.stderr);
    const bytes = readFileSync(target);
    for (const cut of [bytes.length - 7, Math.floor(bytes.length / 2), 10]) {
      const path = target.replace(/\.(arrows?)$/, `-cut${cut}.$1`);
      writeFileSync(path, bytes.subarray(0, cut));
      await expectOneLineError(path, /truncated|corrupt|not an Arrow/);
    }
  }
});

test('arrow file with a damaged record batch header, magic intact at both ends: exit 3, one line naming the batch', async () => {
  const arrow = join(work, 'credit-for-damage.arrow');
  const converted = await runCli(['convert', join(ROOT, 'datasets/credit/incoming.csv'), arrow]);
  assert.equal(converted.code, 0, converted.stderr);
  const bytes = Buffer.from(readFileSync(arrow));
  // Our writer's first message after the 8-byte magic and padding is record batch 0.
  bytes.fill(0, 8, 24);
  const damaged = join(work, 'credit-damaged-header.arrow');
  writeFileSync(damaged, bytes);
  await expectOneLineError(damaged, /record batch 0 has no readable header/);
});

const TEXT_CASES: Record<string, [string, RegExp]> = {
  'ragged.csv': ['a,b\n1,2\n3,4,5\n6,7\n', /Line: 3.*Expected Number of Columns: 2 Found: 3/],
  'short.csv': ['a,b\n1,2\n3\n', /Line: 3/],
  'open-quote.csv': ['a,b\n1,"open\n2,3\n', /unterminated quote/],
  'empty.csv': ['', /empty CSV file/],
  'twice.csv': ['a,a\n1,2\n', /names column 'a' twice/],
  'broken.jsonl': ['{"a":1}\n{"a":2\n{"a":3}\n', /Malformed JSON/],
  'nested.jsonl': ['{"a":{"b":1}}\n', /unsupported: nested column a/],
  'empty.jsonl': ['', /empty JSON Lines file: no record/],
  'blank-lines.jsonl': ['\n  \r\n\t\n', /empty JSON Lines file: no record/],
  'data.txt': ['a\n1\n', /unsupported file extension/],
};

for (const [name, [text, pattern]] of Object.entries(TEXT_CASES)) {
  test(`${name}: exit 3, one line`, async () => {
    const path = join(work, name);
    writeFileSync(path, text);
    await expectOneLineError(path, pattern);
  });
}

test('a missing input file: exit 3 naming it', async () => {
  await expectOneLineError(join(work, 'nope.parquet'), /no such file/);
});
