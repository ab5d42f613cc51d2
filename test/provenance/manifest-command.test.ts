import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { before, describe, it } from 'node:test';
import { pino } from 'pino';
import { manifestCreateCommand, manifestVerifyCommand } from '../../src/cli/commands/manifest.js';
import type { CommandContext, OptionValues } from '../../src/cli/command.js';
import { InputError } from '../../src/core/errors.js';
import { writeKeyPair } from '../../src/provenance/keys.js';
import type { Manifest } from '../../src/provenance/manifest.js';
import { tempDir } from './helpers.js';

function context(): { context: CommandContext; out: () => string } {
  let text = '';
  const stream = new Writable({ write: (chunk, _e, done) => ((text += String(chunk)), done()) });
  return { context: { log: pino({ level: 'silent' }), stdout: stream, stderr: stream, verbose: false }, out: () => text };
}

const CSV = `id,text,label\n${Array.from({ length: 40 }, (_, i) => `${i},row number ${i},${i % 2 ? 'pos' : 'neg'}`).join('\n')}\n`;

let dir: string;
let dataset: string;
let manifestPath: string;

before(async () => {
  dir = await tempDir();
  await writeKeyPair(join(dir, 'keys'), 'vendor-a');
  await writeKeyPair(join(dir, 'other'), 'mallory');
  dataset = join(dir, 'feed.csv');
  await writeFile(dataset, CSV);
  manifestPath = join(dir, 'feed.csv.manifest.json');
});

describe('manifest create', () => {
  it('signs the dataset with its row count and writes <dataset>.manifest.json', async () => {
    const { context: ctx, out } = context();
    const code = await manifestCreateCommand.run([dataset], { source: 'vendor-a', key: join(dir, 'keys', 'vendor-a.key'), 'chunk-size': '256', expires: '7d' }, ctx);
    assert.equal(code, 0);
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as Manifest;
    assert.equal(manifest.dataset.rows, 40);
    assert.equal(manifest.dataset.bytes, (await stat(dataset)).size);
    assert.equal(manifest.dataset.chunks.length, Math.ceil(manifest.dataset.bytes / 256));
    assert.equal(manifest.signer, 'vendor-a');
    assert.equal(Date.parse(manifest.expiresAt!) - Date.parse(manifest.createdAt), 7 * 86_400_000);
    assert.match(out(), /^signed .*feed\.csv\.manifest\.json: \d+ bytes, 40 rows, source vendor-a, signer vendor-a\n$/);
  });

  const usage: Array<[string, OptionValues, RegExp]> = [
    ['no source', { key: 'k' }, /--source is required/],
    ['no key', { source: 's' }, /--key is required/],
    ['bad chunk size', { source: 's', key: 'k', 'chunk-size': '4MB' }, /--chunk-size must be a byte count/],
    ['bad expiry', { source: 's', key: 'k', expires: 'soon' }, /--expires must be a duration/],
  ];
  for (const [name, values, message] of usage) {
    it(`rejects ${name}`, async () => {
      await assert.rejects(manifestCreateCommand.run([dataset], values, context().context), message);
    });
  }
});

describe('manifest verify', () => {
  before(async () => {
    await manifestCreateCommand.run([dataset], { source: 'vendor-a', key: join(dir, 'keys', 'vendor-a.key'), 'chunk-size': '256' }, context().context);
  });

  const cases: Array<{ name: string; data?: (csv: string) => string; values?: OptionValues; exit: number; lines: RegExp[] }> = [
    { name: 'valid', exit: 0, lines: [/^VALID: .* \(source vendor-a, signer vendor-a, 40 rows, sha256 [0-9a-f]{64}\)$/] },
    {
      name: 'one changed byte',
      data: (csv) => csv.replace('row number 20', 'row number 2O'),
      exit: 2,
      lines: [/^INVALID: /, /^ {2}hash: hash mismatch: /, /^ {2}chunk: hash mismatch at chunk 1 \(bytes 256-511\)$/],
    },
    { name: 'untrusted key', values: { trusted: [join('other', 'mallory.pub')] }, exit: 2, lines: [/^INVALID: /, /^ {2}signer: signer 'vendor-a' .* is not a trusted key \(trusted: mallory\)$/] },
    { name: 'source not allowed', values: { source: ['vendor-b'] }, exit: 2, lines: [/^INVALID: /, /^ {2}source: source 'vendor-a' is not an allowed source \(vendor-b\)$/] },
  ];
  for (const testCase of cases) {
    it(`${testCase.name} -> exit ${testCase.exit}`, async () => {
      const path = join(dir, `${testCase.name.replaceAll(' ', '-')}.csv`);
      await writeFile(path, testCase.data ? testCase.data(CSV) : CSV);
      const trusted = ((testCase.values?.trusted as string[] | undefined) ?? ['keys']).map((p) => join(dir, p));
      const { context: ctx, out } = context();
      const code = await manifestVerifyCommand.run([manifestPath], { dataset: path, ...testCase.values, trusted }, ctx);
      assert.equal(code, testCase.exit);
      const lines = out().trimEnd().split('\n');
      assert.equal(lines.length, testCase.lines.length);
      lines.forEach((line, i) => assert.match(line, testCase.lines[i]!));
    });
  }

  it('prints the failures as JSON with --json', async () => {
    const { context: ctx, out } = context();
    await manifestVerifyCommand.run([manifestPath], { dataset, trusted: [join(dir, 'other')], json: true }, ctx);
    assert.deepEqual((JSON.parse(out()) as { ok: boolean; failures: Array<{ kind: string }> }).failures.map((f) => f.kind), ['signer']);
  });

  it('throws InputError (exit 3) for an unreadable dataset or trust path', async () => {
    await assert.rejects(manifestVerifyCommand.run([manifestPath], { dataset: join(dir, 'gone.csv'), trusted: [join(dir, 'keys')] }, context().context), InputError);
    await assert.rejects(manifestVerifyCommand.run([manifestPath], { dataset, trusted: [join(dir, 'nowhere')] }, context().context), InputError);
  });
});
