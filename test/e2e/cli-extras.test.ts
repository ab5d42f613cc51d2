// The progress line, the log switch, the packages a command loads, and the example-data generator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { createProgress } from '../../src/cli/progress.js';
import { CLI, ROOT, runCli, tempDir } from '../helpers.js';

function fakeStream(isTTY: boolean): NodeJS.WriteStream & { text: string } {
  const stream = new Writable({
    write(chunk, _encoding, done) {
      stream.text += String(chunk);
      done();
    },
  }) as unknown as NodeJS.WriteStream & { text: string };
  stream.text = '';
  (stream as { isTTY: boolean }).isTTY = isTTY;
  return stream;
}

test('progress: rows, rows/s and ETA on a terminal; nothing otherwise', async () => {
  const tty = fakeStream(true);
  const progress = createProgress(tty);
  await new Promise((resolve) => setTimeout(resolve, 120));
  progress.update(250_000, 1_000_000);
  progress.done();
  assert.match(tty.text, /\[######\.{18}\] 25%  scan: 250,000 rows  [\d,]+ rows\/s  ETA [\d.]+s/);
  assert.match(tty.text, /\r\u001b\[K$/, 'the line is cleared when done');
  const pipe = fakeStream(false);
  const silent = createProgress(pipe);
  silent.update(250_000, 1_000_000);
  silent.done();
  assert.equal(pipe.text, '');
});

test('--log-level info writes pino JSON lines on stderr; an unknown level is a usage error', async () => {
  const out = join(await tempDir(), 'run');
  const args = ['scan', join(ROOT, 'datasets/credit/incoming.csv'), '--contract', join(ROOT, 'schemas/credit.contract.json'), '--out', out, '--no-audit', '--checks', 'schema,range'];
  const logged = await runCli([...args, '--log-level', 'info']);
  const lines = logged.stderr.trim().split('\n').map((line) => JSON.parse(line) as { level: number; msg: string });
  assert.deepEqual(lines.map((l) => l.msg), ['scan started', 'scan finished']);
  assert.ok(lines.every((l) => l.level === 30));
  const bad = await runCli([...args, '--log-level', 'loud']);
  assert.equal(bad.code, 3);
  assert.match(bad.stderr, /unknown log level 'loud'/);
});

test('a command loads only the heavy packages it uses', async () => {
  const dir = await tempDir();
  // Every package an import or a require reaches is named on stderr, one line each: a module
  // hook sees imports, a wrapped resolver sees requires (DuckDB is required, not imported).
  const named = String.raw`const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(String(url)); if (m) process.stderr.write('package ' + m[1] + '\n');`;
  writeFileSync(join(dir, 'hooks.mjs'), `export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  const url = resolved.url; ${named}
  return resolved;
}
`);
  writeFileSync(join(dir, 'register.mjs'), "import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n");
  writeFileSync(join(dir, 'requires.cjs'), `const Module = require('node:module');
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (...args) {
  const url = resolveFilename.apply(this, args); ${named}
  return url;
};
`);
  // @duckdb/node-api is loaded by no command: datawarden calls DuckDB through its bindings.
  const heavy = ['apache-arrow', '@duckdb/node-bindings', '@duckdb/node-api', 'bullmq', 'ioredis'];
  const scanCsv = ['scan', join(ROOT, 'datasets/credit/incoming.csv'), '--contract', join(ROOT, 'schemas/credit.contract.json'), '--no-audit', '--checks', 'schema,range'];
  const cases: { args: string[]; loads: string[] }[] = [
    { args: ['--help'], loads: [] },
    { args: ['scan', '--help'], loads: [] },
    { args: [...scanCsv, '--out', join(dir, 'csv')], loads: ['@duckdb/node-bindings'] },
    { args: [...scanCsv, '--out', join(dir, 'arrow'), '--format', 'arrow'], loads: ['apache-arrow', '@duckdb/node-bindings'] },
  ];
  for (const { args, loads } of cases) {
    const run = spawnSync(process.execPath, ['--require', join(dir, 'requires.cjs'), '--import', join(dir, 'register.mjs'), CLI, ...args], { encoding: 'utf8' });
    assert.ok(run.status !== null && run.status < 3, `${args.join(' ')}: ${run.stderr}`);
    const loaded = new Set([...run.stderr.matchAll(/^package (\S+)$/gm)].map((m) => m[1]!));
    assert.deepEqual(heavy.filter((name) => loaded.has(name)), loads, args.join(' '));
  }
});

test('the example data generator is deterministic for a seed', async () => {
  const out = await tempDir();
  const result = spawnSync(process.execPath, [join(ROOT, 'datasets/generate.mjs'), '--out', out], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  for (const file of ['incoming.csv', 'ground-truth.json']) {
    assert.equal(readFileSync(join(out, file), 'utf8'), readFileSync(join(ROOT, 'datasets/credit', file), 'utf8'), file);
  }
  const other = await tempDir();
  spawnSync(process.execPath, [join(ROOT, 'datasets/generate.mjs'), '--out', other, '--seed', '8'], { encoding: 'utf8' });
  assert.notEqual(readFileSync(join(other, 'incoming.csv'), 'utf8'), readFileSync(join(out, 'incoming.csv'), 'utf8'));
});

test('a scan exits once done whichever detectors run, also those that never hand work to the scoring threads', async () => {
  const out = await tempDir();
  const contract = join(out, 'unlabelled.contract.json');
  const { label: _label, ...unlabelled } = JSON.parse(readFileSync(join(ROOT, 'schemas/credit.contract.json'), 'utf8'));
  writeFileSync(contract, JSON.stringify(unlabelled));
  // [contract, checks, exit code]: the label detectors have nothing to check without a label,
  // which is told as information and leaves the verdict to the rule checks.
  const cases: [string, string, number][] = [
    [join(ROOT, 'schemas/credit.contract.json'), 'schema,drift', 0],
    [join(ROOT, 'schemas/credit.contract.json'), 'schema,trigger', 0],
    [contract, 'label,label_flip,trigger', 0],
  ];
  for (const [contractPath, checks, code] of cases) {
    const run = spawnSync(process.execPath, [CLI, 'scan', 'datasets/credit/incoming.csv', '--contract', contractPath, '--checks', checks, '--out', join(out, checks), '--no-audit'], {
      cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, LOG_LEVEL: 'silent' },
    });
    assert.equal(run.signal, null, `--checks ${checks} did not exit`);
    assert.equal(run.status, code, `--checks ${checks}: ${run.stderr}`);
  }
  const report = JSON.parse(readFileSync(join(out, 'label,label_flip,trigger', 'report.json'), 'utf8'));
  const skipped = report.findings.filter((f: { code: string }) => f.code.endsWith(':skipped'));
  assert.deepEqual(skipped.map((f: { code: string; severity: string }) => `${f.code} ${f.severity}`), ['label_flip:skipped info', 'trigger:skipped info']);
});
