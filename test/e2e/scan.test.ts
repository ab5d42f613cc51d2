// End to end through the CLI, on the shipped example data: the quarantine holds exactly the
// rule-detectable injected rows with their reason codes, every row lands in one output, the
// report validates, and exit codes gate as documented.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { DuckDBInstance } from '@duckdb/node-api';
import { schemaError } from '../../src/contract/json-schema.js';
import { loadContract } from '../../src/contract/load.js';
import { InputError } from '../../src/core/errors.js';
import { scan } from '../../src/pipeline/scan.js';
import { CLI, PARQUET_TESTING, ROOT, runCli, tempDir } from '../helpers.js';
import { readAll } from '../io/read-all.js';

const INCOMING = join(ROOT, 'datasets/credit/incoming.csv');
const TRUSTED = join(ROOT, 'datasets/credit/trusted.parquet');
const CONTRACT = join(ROOT, 'schemas/credit.contract.json');
/** The rule checks: what these tests pin down exactly (the detectors have tests of their own). */
const RULES = ['--checks', 'schema,range,label,duplicate,source'];

interface Injected { row: number; kind: string; rule: boolean; reasons: string[] }
const truth = JSON.parse(readFileSync(join(ROOT, 'datasets/credit/ground-truth.json'), 'utf8')) as {
  incomingRows: number;
  injected: Injected[];
};
const ruleRows = truth.injected.filter((i) => i.rule);

let work = '';
before(async () => {
  work = await tempDir();
});

async function scanTo(name: string, args: string[]) {
  const out = join(work, name);
  const result = await runCli(['scan', ...args, '--out', out]);
  return { ...result, out };
}

/** `_row` -> `_reasons` of a quarantine file, whatever its format. */
async function quarantineOf(path: string): Promise<Map<number, string>> {
  const { values, rows } = await readAll(path, 'typed');
  const map = new Map<number, string>();
  for (let r = 0; r < rows; r++) map.set(Number(values._row![r]), String(values._reasons![r]));
  return map;
}

test('example data: the quarantine is exactly the rule-detectable injected rows, with their reasons', async () => {
  const result = await scanTo('example', [INCOMING, '--contract', CONTRACT, ...RULES]);
  assert.equal(result.code, 1, result.stderr); // 65 of 2013 rows: above the pass gate, within warn
  const quarantine = await quarantineOf(join(result.out, 'quarantine.csv'));
  assert.deepEqual(
    [...quarantine.entries()].sort((a, b) => a[0] - b[0]),
    ruleRows.map((i) => [i.row, i.reasons.join(';')]),
  );
  const report = JSON.parse(readFileSync(join(result.out, 'report.json'), 'utf8'));
  assert.equal(schemaError('report.schema.json', report), null);
  assert.equal(report.verdict, 'warn');
  assert.equal(report.exitCode, 1);
  assert.equal(report.input.rows, truth.incomingRows);
  assert.equal(report.quarantine.rows, ruleRows.length);
  assert.equal(report.input.sha256.length, 64);
  assert.deepEqual(
    Object.fromEntries(report.checks.map((c: { id: string; flaggedRows: number }) => [c.id, c.flaggedRows])),
    { schema: 20, range: 23, label: 9, duplicate: 13, source: 0 },
  );
  assert.match(readFileSync(join(result.out, 'report.md'), 'utf8'), /^# datawarden scan: WARN/);
  assert.deepEqual(readdirSync(result.out).sort(), ['clean.csv', 'quarantine.csv', 'report.json', 'report.md']);
});

test('every input row lands in exactly one of clean and quarantine, in every output format', async () => {
  const input = await readAll(INCOMING, 'raw');
  const ids = input.values.application_id as string[];
  for (const format of ['csv', 'parquet', 'arrow', 'arrows', 'jsonl']) {
    const result = await scanTo(`formats-${format}`, [INCOMING, '--contract', CONTRACT, '--format', format, ...RULES]);
    assert.equal(result.code, 1, result.stderr);
    const clean = await readAll(join(result.out, `clean.${format}`), 'typed');
    const quarantine = await quarantineOf(join(result.out, `quarantine.${format}`));
    assert.equal(clean.rows + quarantine.size, input.rows, format);
    // Clean rows keep input order and original columns; together with _row they cover every row once.
    const quarantined = new Set(quarantine.keys());
    const expectedCleanIds = ids.filter((_, row) => !quarantined.has(row));
    assert.deepEqual(clean.values.application_id, expectedCleanIds, format);
    assert.deepEqual(clean.columns.map((c) => c.name), input.columns.map((c) => c.name), format);
    assert.deepEqual([...quarantined].sort((a, b) => a - b), ruleRows.map((i) => i.row), format);
  }
});

test('parquet input: the same rows held in Parquet and in Arrow output', async () => {
  const contract = join(work, 'tight.contract.json');
  const base = JSON.parse(readFileSync(CONTRACT, 'utf8'));
  // Tighter bounds than the data: the rows flagged are known from the data itself.
  base.columns.find((c: { name: string }) => c.name === 'age').max = 60;
  base.columns.find((c: { name: string }) => c.name === 'income').min = 20000;
  writeFileSync(contract, JSON.stringify(base));
  const trusted = await readAll(TRUSTED);
  const expected = new Map<number, string>();
  (trusted.values.age as number[]).forEach((age, row) => {
    const reasons = [age > 60 ? 'range:age' : '', (trusted.values.income as number[])[row]! < 20000 ? 'range:income' : ''].filter(Boolean);
    if (reasons.length) expected.set(row, reasons.join(';'));
  });
  assert.ok(expected.size > 100);
  const native = await scanTo('native', [TRUSTED, '--contract', contract, ...RULES]);
  const streamed = await scanTo('streamed', [TRUSTED, '--contract', contract, '--format', 'arrow', ...RULES]);
  assert.equal(native.code, 2);
  assert.equal(streamed.code, 2);
  const nativeRows = await quarantineOf(join(native.out, 'quarantine.parquet'));
  const streamedRows = await quarantineOf(join(streamed.out, 'quarantine.arrow'));
  assert.deepEqual([...nativeRows.entries()], [...expected.entries()]);
  assert.deepEqual([...streamedRows.entries()], [...expected.entries()]);
  const nativeClean = await readAll(join(native.out, 'clean.parquet'));
  const streamedClean = await readAll(join(streamed.out, 'clean.arrow'));
  assert.deepEqual(nativeClean.values, streamedClean.values);
  assert.equal(nativeClean.rows, trusted.rows - expected.size);
});

test('a missing required column fails the dataset: every row held back, clean set empty', async () => {
  const contract = join(work, 'extra-column.contract.json');
  const base = JSON.parse(readFileSync(CONTRACT, 'utf8'));
  base.columns.push({ name: 'branch_code', type: 'string' });
  writeFileSync(contract, JSON.stringify(base));
  const result = await scanTo('missing', [INCOMING, '--contract', contract, ...RULES]);
  assert.equal(result.code, 2);
  const report = JSON.parse(readFileSync(join(result.out, 'report.json'), 'utf8'));
  assert.equal(report.verdict, 'fail');
  assert.equal(report.clean.rows, 0);
  assert.equal(report.quarantine.rows, truth.incomingRows);
  assert.deepEqual(report.findings.map((f: { code: string }) => f.code), ['schema:missing:branch_code']);
  const quarantine = await quarantineOf(join(result.out, 'quarantine.csv'));
  assert.equal(quarantine.size, truth.incomingRows);
  assert.ok([...quarantine.values()].every((reasons) => reasons.startsWith('schema:missing:branch_code')));
  assert.equal(quarantine.get(ruleRows[0]!.row), ['schema:missing:branch_code', ...ruleRows[0]!.reasons].join(';'));
});

test('a file with a header and no rows warns (often a broken export), with whole, empty outputs', async () => {
  const empty = join(work, 'header-only.csv');
  writeFileSync(empty, `${readFileSync(INCOMING, 'utf8').split('\n')[0]}\n`);
  const result = await scanTo('empty', [empty, '--contract', CONTRACT, ...RULES]);
  assert.equal(result.code, 1, result.stderr);
  const report = JSON.parse(readFileSync(join(result.out, 'report.json'), 'utf8'));
  assert.deepEqual([report.verdict, report.clean.rows, report.quarantine.rows], ['warn', 0, 0]);
  assert.deepEqual(report.findings.map((f: { code: string; message: string }) => [f.code, f.message]), [['schema:empty', `${empty} has no rows`]]);
  assert.deepEqual(readdirSync(result.out).sort(), ['clean.csv', 'quarantine.csv', 'report.json', 'report.md']);
});

test('a header-only file scanned with the detectors fitted on itself: each detector skipped for want of rows, no error', async () => {
  const empty = join(work, 'header-only-detectors.csv');
  writeFileSync(empty, `${readFileSync(INCOMING, 'utf8').split('\n')[0]}\n`);
  const result = await scanTo('empty-detectors', [empty, '--contract', CONTRACT]);
  assert.equal(result.code, 1, result.stderr);
  const report = JSON.parse(readFileSync(join(result.out, 'report.json'), 'utf8'));
  assert.deepEqual([report.verdict, report.clean.rows, report.quarantine.rows], ['warn', 0, 0]);
  const findings = new Map(report.findings.map((f: { code: string; message: string }) => [f.code, f.message]));
  assert.deepEqual([...findings.keys()].sort(), ['drift:skipped', 'label_flip:skipped', 'outlier:skipped', 'schema:empty', 'trigger:skipped']);
  assert.match(findings.get('outlier:skipped') as string, /the sample has no rows$/);
  assert.match(findings.get('label_flip:skipped') as string, /the sample has no rows$/);
});

test('exit codes: 0 pass, 1 warn, 2 fail, 3 error', async () => {
  const pass = await scanTo('pass', [TRUSTED, '--contract', CONTRACT, ...RULES]);
  assert.equal(pass.code, 0, pass.stderr);
  assert.match(pass.stdout, /^PASS: 0 of 4000 rows quarantined/);
  const warn = await scanTo('warn', [INCOMING, '--contract', CONTRACT, ...RULES]);
  assert.equal(warn.code, 1);
  const strict = join(work, 'strict.contract.json');
  writeFileSync(strict, JSON.stringify({ ...JSON.parse(readFileSync(CONTRACT, 'utf8')), gate: { pass: 0, warn: 0.01 } }));
  const fail = await scanTo('fail', [INCOMING, '--contract', strict, ...RULES]);
  assert.equal(fail.code, 2);
  const error = await scanTo('error', [INCOMING, '--contract', join(work, 'none.json')]);
  assert.equal(error.code, 3);
  assert.equal(error.stderr.trim().split('\n').length, 1);
});

test('--checks runs only the named checks; an unknown check is a usage error', async () => {
  const result = await scanTo('only-range', [INCOMING, '--contract', CONTRACT, '--checks', 'range']);
  const report = JSON.parse(readFileSync(join(result.out, 'report.json'), 'utf8'));
  assert.deepEqual(report.options.checks, ['range']);
  assert.equal(report.quarantine.rows, 23);
  const unknown = await scanTo('unknown-check', [INCOMING, '--contract', CONTRACT, '--checks', 'range,nope']);
  assert.equal(unknown.code, 3);
  assert.match(unknown.stderr, /--checks: unknown check 'nope'/);
});

test('--json prints the report on stdout', async () => {
  const result = await scanTo('json', [INCOMING, '--contract', CONTRACT, '--json', ...RULES]);
  const report = JSON.parse(result.stdout);
  assert.equal(report.verdict, 'warn');
  assert.equal(schemaError('report.schema.json', report), null);
});

test('an interrupted scan leaves nothing that looks finished', async () => {
  const big = join(work, 'big.parquet');
  const db = await (await DuckDBInstance.create(':memory:')).connect();
  await db.run(`COPY (SELECT range AS id, random() AS a, (range % 9)::INTEGER AS b FROM range(3000000)) TO '${big}' (FORMAT parquet)`);
  db.closeSync();
  const contract = join(work, 'big.contract.json');
  writeFileSync(contract, JSON.stringify({
    name: 'big', gate: { pass: 0.01, warn: 0.05 },
    columns: [{ name: 'id', type: 'int' }, { name: 'a', type: 'float', max: 0.5 }, { name: 'b', type: 'int' }],
  }));
  const out = join(work, 'interrupted');
  for (const delay of [300, 900, 1500]) {
    const child = spawn(process.execPath, [CLI, 'scan', big, '--contract', contract, '--out', out, ...RULES], { stdio: 'ignore' });
    await new Promise((resolve) => setTimeout(resolve, delay));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('close', resolve));
    const names = existsSync(out) ? readdirSync(out) : [];
    assert.ok(!names.includes('report.json'), `after ${delay} ms: ${names.join(', ')}`);
    assert.ok(names.every((n) => n.startsWith('.') && n.endsWith('.tmp')), `after ${delay} ms: ${names.join(', ')}`);
  }
});

test('infer: types, nullability, widened bounds, classes and the id from trusted data', async () => {
  const out = join(work, 'inferred.contract.json');
  const result = await runCli(['infer', TRUSTED, '--label', 'approved', '--id', 'application_id', '--out', out]);
  assert.equal(result.code, 0, result.stderr);
  const contract = JSON.parse(readFileSync(out, 'utf8'));
  const column = (name: string) => contract.columns.find((c: { name: string }) => c.name === name);
  assert.deepEqual(contract.columns.map((c: { name: string; type: string }) => `${c.name}:${c.type}`), [
    'application_id:string', 'source:string', 'age:int', 'income:float', 'loan_amount:float', 'credit_score:int',
    'debt_ratio:float', 'employment_years:int', 'home_ownership:string', 'purpose:string', 'applied_at:timestamp', 'approved:int',
  ]);
  assert.deepEqual(column('age'), { name: 'age', type: 'int', nullable: false, min: 11, max: 87 }); // 18..80 widened by 10%
  // Columns never negative in the trusted data keep a lower bound of 0: the margin does not cross zero.
  assert.deepEqual([column('loan_amount').min, column('debt_ratio').min, column('employment_years').min], [0, 0, 0]);
  assert.equal(column('employment_years').max, 44);
  assert.deepEqual(column('approved'), { name: 'approved', type: 'int', nullable: false, allowed: [0, 1] });
  assert.deepEqual(column('application_id'), { name: 'application_id', type: 'string', nullable: false, unique: true });
  assert.deepEqual(column('home_ownership').allowed, ['mortgage', 'own', 'rent']);
  assert.equal(column('applied_at').max, undefined);
  assert.equal(contract.label, 'approved');
  const unknown = await runCli(['infer', TRUSTED, '--label', 'approve']);
  assert.equal(unknown.code, 3);
  assert.match(unknown.stderr, /--label names column 'approve', which .* does not have/);
  const gate = await runCli(['infer', TRUSTED, '--gate-pass', '0.2', '--gate-warn', '0.1']);
  assert.equal(gate.code, 3);
  assert.equal(gate.stderr, 'datawarden infer: --gate-pass/--gate-warn: invalid contract: gate.pass: must not exceed gate.warn (0.2 > 0.1)\n');
});

test('infer: a timestamp past year 9999 or before year 0 makes a bound in ISO-8601 expanded form, which a contract reads', async () => {
  // The sixth value of this file decodes to a year far outside 0-9999 (inputs.md, known limit).
  const out = join(work, 'int96.contract.json');
  const result = await runCli(['infer', join(PARQUET_TESTING, 'data', 'int96_from_spark.parquet'), '--out', out]);
  assert.equal(result.code, 0, result.stderr);
  const [column] = JSON.parse(readFileSync(out, 'utf8')).columns;
  assert.match(column.min, /^-\d{6}-\d{2}-\d{2}T/);
  const scanned = await runCli(['scan', join(PARQUET_TESTING, 'data', 'int96_from_spark.parquet'), '--contract', out, '--out', join(work, 'int96'), '--checks', 'schema,range']);
  assert.equal(scanned.code, 0, scanned.stderr);
});

test('every command answers --help', async () => {
  for (const command of ['scan', 'infer', 'convert']) {
    const result = await runCli([command, '--help']);
    assert.equal(result.code, 0);
    assert.match(result.stdout, new RegExp(`^Usage: datawarden ${command} `));
  }
  const unknownOption = await runCli(['scan', INCOMING, '--contract', CONTRACT, '--out', work, '--nope']);
  assert.equal(unknownOption.code, 3);
  assert.match(unknownOption.stderr, /Unknown option '--nope'/);
});

test('expectedSha256: the scan refuses an input whose hash differs, and writes nothing', async () => {
  const work = await tempDir();
  const contract = await loadContract(CONTRACT);
  const { createHash } = await import('node:crypto');
  const sha256 = createHash('sha256').update(readFileSync(INCOMING)).digest('hex');
  const base = { input: INCOMING, contract, checks: ['schema', 'range'] } as const;
  const same = await scan({ ...base, outDir: join(work, 'same'), expectedSha256: sha256 });
  assert.equal(same.report.input.sha256, sha256);
  const other = sha256.replace(/^./, (c) => (c === '0' ? '1' : '0'));
  await assert.rejects(
    scan({ ...base, outDir: join(work, 'other'), expectedSha256: other }),
    (error: Error) => error instanceof InputError && error.message === `${INCOMING}: the dataset changed since the scan was requested (its sha256 is ${sha256}, not ${other})`,
  );
  assert.deepEqual(existsSync(join(work, 'other')) ? readdirSync(join(work, 'other')) : [], []);
});
