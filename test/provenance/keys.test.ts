import assert from 'node:assert/strict';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { keygenCommand } from '../../src/cli/commands/keygen.js';
import { InputError } from '../../src/core/errors.js';
import { loadSigningKey, loadTrustedKeys, writeKeyPair } from '../../src/provenance/keys.js';
import { tempDir } from './helpers.js';

function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

describe('writeKeyPair', () => {
  it('writes a PKCS8 private key with mode 0600 and an SPKI public key', async () => {
    const dir = await tempDir();
    const files = await writeKeyPair(join(dir, 'keys'), 'alice');
    assert.equal((await stat(files.privateKeyPath)).mode & 0o777, 0o600);
    assert.match(await readFile(files.privateKeyPath, 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
    assert.match(await readFile(files.publicKeyPath, 'utf8'), /^-----BEGIN PUBLIC KEY-----\n/);
    const key = await loadSigningKey(files.privateKeyPath);
    assert.equal(key.name, 'alice');
    assert.equal(key.keyId, files.keyId);
    assert.equal(key.looseMode, false);
  });

  it('refuses to overwrite unless forced, and a forced key is a new key', async () => {
    const dir = await tempDir();
    const first = await writeKeyPair(dir, 'bob');
    await assert.rejects(writeKeyPair(dir, 'bob'), (error: unknown) => error instanceof InputError && /bob\.key: already exists; pass --force/.test(error.message));
    const second = await writeKeyPair(dir, 'bob', { force: true });
    assert.notEqual(second.keyId, first.keyId);
    assert.equal((await stat(second.privateKeyPath)).mode & 0o777, 0o600);
  });

  const badNames = ['', '../evil', '.hidden', 'a b'];
  for (const name of badNames) {
    it(`rejects the signer name '${name}'`, async () => {
      await assert.rejects(writeKeyPair(await tempDir(), name), InputError);
    });
  }
});

describe('loadTrustedKeys', () => {
  it('loads files and every .pub of a directory, keyed by key id', async () => {
    const dir = await tempDir();
    const a = await writeKeyPair(join(dir, 'ring'), 'a');
    const b = await writeKeyPair(join(dir, 'ring'), 'b');
    const c = await writeKeyPair(join(dir, 'other'), 'c');
    const keys = await loadTrustedKeys([join(dir, 'ring'), c.publicKeyPath]);
    assert.deepEqual([...keys.keys()].sort(), [a.keyId, b.keyId, c.keyId].sort());
    assert.equal(keys.get(b.keyId)!.name, 'b');
  });

  it('rejects a private key, a non-key, an empty directory and a missing path, naming the file', async () => {
    const dir = await tempDir();
    const pair = await writeKeyPair(join(dir, 'k'), 'k');
    await writeFile(join(dir, 'junk.pub'), 'not a key');
    const cases: Array<[string, RegExp]> = [
      [pair.privateKeyPath, /k\.key: is a private key; trust the public key/],
      [join(dir, 'junk.pub'), /junk\.pub: not a PEM public key/],
      [join(dir, 'absent'), /absent: cannot read trusted key path \(ENOENT\)/],
    ];
    for (const [path, message] of cases) await assert.rejects(loadTrustedKeys([path]), (e: unknown) => e instanceof InputError && message.test(e.message));
    const empty = join(dir, 'empty');
    await writeKeyPair(empty, 'x');
    await rm(join(empty, 'x.pub'));
    await assert.rejects(loadTrustedKeys([empty]), /empty: no \.pub files in trusted key directory/);
  });
});

describe('keygen command', () => {
  it('writes the pair, prints paths and key id but never the private key, and refuses to overwrite', async () => {
    const dir = await tempDir();
    const out = capture();
    const logs = capture();
    const context = { log: pino({ level: 'trace' }, logs.stream), stdout: out.stream, stderr: out.stream, verbose: false };
    const code = await keygenCommand.run([], { name: 'feed', out: dir, force: false }, context);
    assert.equal(code, 0);
    const privatePem = await readFile(join(dir, 'feed.key'), 'utf8');
    const secret = privatePem.split('\n')[1]!;
    assert.match(out.text(), /private key: .*feed\.key \(mode 0600/);
    assert.match(out.text(), /key id: {6}[0-9a-f]{64}\n/);
    assert.ok(!out.text().includes(secret) && !logs.text().includes(secret));
    await assert.rejects(keygenCommand.run([], { name: 'feed', out: dir }, context), InputError);
  });
});
