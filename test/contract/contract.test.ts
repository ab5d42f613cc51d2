// Contract validation: every broken contract is refused with a message naming the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { applyContractTypes } from '../../src/contract/coerce.js';
import { inferContract, type InferOptions } from '../../src/contract/infer.js';
import { loadContract, validateContract } from '../../src/contract/load.js';
import { openSource } from '../../src/io/source.js';
import { scan } from '../../src/pipeline/scan.js';
import { fieldPath } from '../../src/contract/json-schema.js';
import { InputError } from '../../src/core/errors.js';
import { ROOT, tempDir } from '../helpers.js';

const valid = {
  name: 'people',
  label: 'y',
  gate: { pass: 0.01, warn: 0.05 },
  columns: [
    { name: 'age', type: 'int', min: 0, max: 120 },
    { name: 'at', type: 'timestamp', min: '2020-01-01T00:00:00Z' },
    { name: 'code', type: 'string', pattern: '[A-Z]+' },
    { name: 'y', type: 'int', allowed: [0, 1] },
  ],
};

/** Infers a contract from `text` written to `name` in a new folder, with the notes infer tells. */
async function inferNoting(name: string, text: string, options: InferOptions = {}) {
  const dir = await tempDir();
  const path = join(dir, name);
  writeFileSync(path, text);
  const notes: string[] = [];
  const contract = await inferContract(path, { ...options, onNote: (message) => notes.push(message) });
  return { dir, path, contract, notes };
}

type Json = Record<string, unknown>;
const withColumn = (index: number, patch: Json) => ({
  ...valid,
  columns: valid.columns.map((c, i) => (i === index ? { ...c, ...patch } : c)),
});

const cases: [string, unknown, RegExp][] = [
  ['not an object', [], /\(top level\): must be object/],
  ['no name', { ...valid, name: undefined }, /name: required field is missing/],
  ['no gate', { ...valid, gate: undefined }, /gate: required field is missing/],
  ['gate out of range', { ...valid, gate: { pass: 0.01, warn: 1.5 } }, /gate\.warn: must be <= 1/],
  ['pass above warn', { ...valid, gate: { pass: 0.2, warn: 0.1 } }, /gate\.pass: must not exceed gate\.warn/],
  ['unknown field', { ...valid, colums: [] }, /colums: unknown field/],
  ['no columns', { ...valid, columns: [] }, /columns: must NOT have fewer than 1 items/],
  ['unknown type', withColumn(0, { type: 'integer' }), /columns\[0\]\.type: must be one of int, float, string, bool, timestamp/],
  ['unknown column field', withColumn(1, { nulable: true }), /columns\[1\]\.nulable: unknown field/],
  ['column named twice', withColumn(1, { name: 'age' }), /columns\[1\]\.name: column 'age' is named twice/],
  ['min above max', withColumn(0, { min: 10, max: 5 }), /columns\[0\]\.min: must not exceed max/],
  ['string bound on an int', withColumn(0, { min: 'zero' }), /columns\[0\]\.min: must be a number for a int column/],
  ['timestamp bound that is not ISO', withColumn(1, { min: 'yesterday' }), /columns\[1\]\.min: must be an ISO-8601 timestamp/],
  ['pattern on a number', withColumn(0, { pattern: '\\d+' }), /columns\[0\]\.pattern: applies to string columns only/],
  ['pattern that does not compile', withColumn(2, { pattern: '[A-Z' }), /columns\[2\]\.pattern: not a valid regular expression/],
  ['format on a string column', withColumn(2, { format: '%Y/%m/%d' }), /columns\[2\]\.format: applies to timestamp columns only, not string/],
  ['format with a directive it cannot read', withColumn(1, { format: '%Y/%m/%d %Q' }), /columns\[1\]\.format: format '%Y\/%m\/%d %Q' uses %Q/],
  ['format without a day', withColumn(1, { format: '%Y/%m' }), /columns\[1\]\.format: format '%Y\/%m' needs a year/],
  ['allowed value of the wrong type', withColumn(3, { allowed: [0, 'one'] }), /columns\[3\]\.allowed\[1\]: "one" is not a int value/],
  ['label naming no column', { ...valid, label: 'target' }, /label: names column 'target', which the contract does not list/],
  ['id naming no column', { ...valid, id: 'key' }, /id: names column 'key'/],
  ['provenance with a bad field', { ...valid, provenance: { requireManifest: 'yes' } }, /provenance\.requireManifest/],
];

for (const [name, contract, message] of cases) {
  test(`refused: ${name}`, () => {
    assert.throws(() => validateContract(JSON.parse(JSON.stringify(contract)), 'c.json'), (error: Error) => {
      assert.match(error.message, /^c\.json: invalid contract: /);
      assert.match(error.message, message);
      return true;
    });
  });
}

test('a valid contract passes unchanged', () => {
  assert.deepEqual(validateContract(structuredClone(valid)), valid);
});

test('JSON pointers become field paths', () => {
  assert.equal(fieldPath('/columns/2/type'), 'columns[2].type');
  assert.equal(fieldPath('/gate/pass'), 'gate.pass');
  assert.equal(fieldPath(''), '');
});

test('the build compiles every schema into a validator that matches the schema as it is now', () => {
  const require = createRequire(import.meta.url);
  const schemas = readdirSync(join(ROOT, 'schemas')).filter((name) => name.endsWith('.schema.json'));
  assert.deepEqual(schemas.sort(), ['contract.schema.json', 'job.schema.json', 'report.schema.json']);
  for (const name of schemas) {
    const text = readFileSync(join(ROOT, 'schemas', name), 'utf8');
    const compiled = require(join(ROOT, 'dist', 'schemas', name.replace(/\.json$/, '.validate.cjs'))) as { schemaSha256: string; validate: unknown };
    assert.equal(compiled.schemaSha256, createHash('sha256').update(text).digest('hex'), name);
    assert.equal(typeof compiled.validate, 'function', name);
  }
});

test('infer widens numeric bounds by the margin, but not across zero', async () => {
  // Observed ranges, and the bounds expected with the default 10% margin (ints rounded outwards).
  const cases: { name: string; values: number[]; min: number; max: number }[] = [
    { name: 'positive', values: [10, 100], min: 1, max: 109 },
    { name: 'from_zero', values: [0, 50], min: 0, max: 55 },
    { name: 'near_zero', values: [2, 50], min: 0, max: 55 },
    { name: 'negative', values: [-50, -10], min: -54, max: -6 },
    { name: 'up_to_zero', values: [-50, 0], min: -55, max: 0 },
    { name: 'both_signs', values: [-10, 10], min: -12, max: 12 },
  ];
  const dir = await tempDir();
  const path = join(dir, 'ranges.csv');
  writeFileSync(path, [cases.map((c) => c.name).join(','), ...[0, 1].map((r) => cases.map((c) => c.values[r]).join(','))].join('\n') + '\n');
  const contract = await inferContract(path);
  assert.deepEqual(
    contract.columns.map((c) => [c.name, c.min, c.max]),
    cases.map((c) => [c.name, c.min, c.max]),
  );
});

test('infer tells of a text column whose values are nearly all numbers, naming the first other value and its row', async () => {
  const lines = ['amount,code,name,id'];
  for (let r = 0; r < 200; r++) lines.push(`${r === 150 ? 'n/a' : r * 2},${r < 100 ? r : `C${r}`},name${r},${r === 7 ? 'x7' : r}`);
  const { contract, notes } = await inferNoting('odd-cell.csv', `${lines.join('\n')}\n`, { id: 'id' });
  assert.deepEqual(contract.columns.map((c) => `${c.name}:${c.type}`), ['amount:string', 'code:string', 'name:string', 'id:string']);
  // amount: 199 of 200 numbers (told); code: half (not told); name: none; id: an identifier, not told.
  assert.deepEqual(notes, [
    "column 'amount' is typed string, yet 199 of its 200 values are numbers; the first other one is 'n/a' (row 150): fix the trusted data, or set its type and bounds by hand",
  ]);
});

test('infer tells of trusted rows without a label or an id, which the contract will require', async () => {
  const lines = ['id,x,y'];
  for (let r = 0; r < 40; r++) lines.push(`${r === 3 ? '' : r},${r},${r % 8 === 0 ? '' : r % 2}`);
  const { contract, notes } = await inferNoting('gaps.csv', `${lines.join('\n')}\n`, { id: 'id', label: 'y' });
  assert.deepEqual(contract.columns.map((c) => [c.name, c.nullable]), [['id', false], ['x', false], ['y', false]]);
  assert.deepEqual(notes, [
    "label column 'y' is empty in 5 of the 40 trusted rows (12.5%); the contract requires it, so a scan quarantines such rows (label:y)",
    "id column 'id' is empty in 1 of the 40 trusted rows (2.5%); the contract requires it, so a scan quarantines such rows (schema:null:id)",
  ]);
});

test('infer: a column empty in every trusted row gets no value list and is told; an empty label is refused', async () => {
  const { dir, contract, notes } = await inferNoting('blank.csv', 'x,note,y\n1,,a\n2,,b\n3,,a\n', { label: 'y' });
  // Before, `note` got `allowed: []`, which no contract may hold: infer failed with a schema error.
  assert.deepEqual(contract.columns[1], { name: 'note', type: 'string', nullable: true });
  validateContract(contract, 'the inferred contract');
  assert.deepEqual(notes, ["column 'note' is empty in every trusted row: its type (string) is the reader's guess and any value passes; set its type and bounds by hand"]);
  const unlabelled = join(dir, 'unlabelled.csv');
  writeFileSync(unlabelled, 'x,y\n1,\n2,\n');
  await assert.rejects(inferContract(unlabelled, { label: 'y' }), (error: Error) => error instanceof InputError && /label column 'y' is empty in every row/.test(error.message));
});

test('infer gives a CSV date or timestamp column that is not ISO-8601 its format, so a scan of the same file reads every value', async () => {
  const { dir, path, contract, notes } = await inferNoting('events.csv', 'at,day,iso,count\n2015/01/01 01:00:00,01/15/2020,2020-01-15,2\n2015/01/13 16:30:05,12/31/2021,2021-12-31,3\n2015/02/01 00:00:00,2/1/2022,2022-02-01,4\n');
  assert.deepEqual(contract.columns.map((c) => [c.name, c.type, c.format]), [
    ['at', 'timestamp', '%Y/%m/%d %H:%M:%S'],
    ['day', 'timestamp', '%m/%d/%Y'],
    ['iso', 'timestamp', undefined],
    ['count', 'int', undefined],
  ]);
  assert.deepEqual(notes, []);
  validateContract(contract, 'the inferred contract');
  const contractPath = join(dir, 'events.contract.json');
  writeFileSync(contractPath, JSON.stringify(contract));
  const { report } = await scan({ input: path, contract: await loadContract(contractPath), outDir: join(dir, 'out'), checks: ['schema', 'range'] });
  assert.equal(report.quarantine.rows, 0);
  // The values as the scan read them: the clean file holds them as read, so read them again typed.
  const source = await openSource(path, 'raw');
  const instants: string[] = [];
  for await (const raw of source.batches()) {
    const typed = applyContractTypes(raw, contract);
    for (const name of ['at', 'day']) {
      const column = typed.byName.get(name)!;
      for (let r = 0; r < typed.rowCount; r++) instants.push(new Date((column.values[r] as number) / 1000).toISOString());
    }
  }
  await source.close();
  assert.deepEqual(instants, [
    '2015-01-01T01:00:00.000Z', '2015-01-13T16:30:05.000Z', '2015-02-01T00:00:00.000Z',
    '2020-01-15T00:00:00.000Z', '2021-12-31T00:00:00.000Z', '2022-02-01T00:00:00.000Z',
  ]);
});

test('infer tells of trusted values its contract does not read as a scan reads them (a title 1776 as a JSON number)', async () => {
  const titles = ['"Alien"', '1776', '"Heat"', '300', '"Up"'];
  const { contract, notes } = await inferNoting('movies.jsonl', titles.map((title, r) => `{"title": ${title}, "year": ${1970 + r}}\n`).join(''));
  assert.deepEqual(contract.columns.map((c) => `${c.name}:${c.type}`), ['title:string', 'year:int']);
  assert.deepEqual(notes, [
    "column 'title': 2 of the 5 trusted values do not read as string the way a scan reads them, so a scan quarantines their rows (schema:type:title); the first is 1776 (row 1)",
  ]);
});

test('infer reads a JSON Lines key that mixes strings and objects as a scan does: its strings without their quotes', async () => {
  const { dir, path, contract, notes } = await inferNoting('mixed.jsonl', '{"a": 1, "b": "x"}\n{"a": 2, "b": {"k": 1}}\n{"a": 3, "b": "z"}\n');
  // Before, the strings kept their JSON quotes ('"x"'), and a scan of the same file failed every one on range:b.
  assert.deepEqual(contract.columns[1], { name: 'b', type: 'string', nullable: false, allowed: ['x', 'z', '{"k":1}'] });
  assert.deepEqual(notes, [
    "column 'b': 1 of the 3 trusted values do not read as string the way a scan reads them, so a scan quarantines their rows (schema:type:b); the first is {\"k\":1} (row 1)",
  ]);
  const contractPath = join(dir, 'mixed.contract.json');
  writeFileSync(contractPath, JSON.stringify(contract));
  const outDir = join(dir, 'out');
  await scan({ input: path, contract: await loadContract(contractPath), outDir, checks: ['schema', 'range'] });
  const quarantined = readFileSync(join(outDir, 'quarantine.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { _row: number; _reasons: string });
  assert.deepEqual(quarantined.map((row) => [row._row, row._reasons]), [[1, 'schema:type:b']]);
});

test('a timestamp format written by hand reads JSON Lines strings too; text in neither the format nor ISO-8601 is quarantined', async () => {
  const dir = await tempDir();
  const path = join(dir, 'events.jsonl');
  const days = ['"05/01/2020"', '"2020-01-06"', '"2020/01/07"', '"31/12/2021"'];
  writeFileSync(path, days.map((day) => `{"day": ${day}}\n`).join(''));
  const contractPath = join(dir, 'events.contract.json');
  writeFileSync(contractPath, JSON.stringify({ name: 'events', gate: { pass: 0.5, warn: 0.5 }, columns: [{ name: 'day', type: 'timestamp', format: '%d/%m/%Y' }] }));
  const outDir = join(dir, 'out');
  const { report } = await scan({ input: path, contract: await loadContract(contractPath), outDir, checks: ['schema'] });
  assert.deepEqual(report.checks.find((c) => c.id === 'schema')!.reasons, { 'schema:type:day': 1 });
  assert.deepEqual(readFileSync(join(outDir, 'quarantine.jsonl'), 'utf8').trim().split('\n').map((line) => (JSON.parse(line) as { _row: number })._row), [2]);
});

test('infer: bounds come from the finite values; NaN and infinities in trusted rows are told', async () => {
  const { contract, notes } = await inferNoting('amounts.csv', 'amt,n\n1,1\n2,2\nNaN,3\ninf,4\n4,5\n');
  // Before, the infinity became the bound, which JSON writes as null: infer failed on its own contract.
  assert.deepEqual(contract.columns[0], { name: 'amt', type: 'float', nullable: false, min: 0.7, max: 4.3 });
  validateContract(contract, 'the inferred contract');
  assert.deepEqual(notes, ["column 'amt' holds 2 NaN or infinite values in the 5 trusted rows; its bounds are those of the finite values, so a scan flags such values (range:amt)"]);
});

test('infer tells of trusted rows that repeat an earlier row, which a scan quarantines unless the contract allows it', async () => {
  // Rows 3 and 5 repeat row 0's content under other ids; row 4 differs in v.
  const { notes } = await inferNoting('events.csv', 'id,kind,v\n1,click,7\n2,view,7\n3,view,8\n4,click,7\n5,click,9\n6,click,7\n', { id: 'id' });
  assert.deepEqual(notes, [
    '2 of the 6 trusted rows repeat an earlier row\'s content (the first is row 3), and a scan quarantines such rows (duplicate): where repeats are normal in this data, set "allowDuplicateRows": true in the contract',
  ]);
});
