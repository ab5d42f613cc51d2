import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile, appendFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { InputError } from '../../src/core/errors.js';
import { loadSigningKey, loadTrustedKeys, writeKeyPair, type SigningKey } from '../../src/provenance/keys.js';
import { createManifest, formatManifest, signManifest, verifyManifest, type Manifest } from '../../src/provenance/manifest.js';
import { tempDir } from './helpers.js';

const CHUNK = 1024;
const BYTES = 10_000; // 10 chunks: nine of 1024 bytes and one of 784
const ROWS = 100;
const CREATED = new Date('2024-05-01T12:00:00.000Z');
const LATER = new Date('2024-05-02T12:00:00.000Z'); // one day on

let dir: string;
let alice: SigningKey;
let mallory: SigningKey;
let trustedDir: string;
let data: Buffer;

async function signed(overrides: Partial<Parameters<typeof createManifest>[0]> = {}): Promise<Manifest> {
  return createManifest({ datasetPath: join(dir, 'data.csv'), source: 'vendor-a', key: alice, rowCount: ROWS, chunkBytes: CHUNK, now: CREATED, ...overrides });
}

/** Writes the manifest and a dataset (the original bytes unless given), then verifies. */
async function verify(name: string, manifest: Manifest | string, options: { dataset?: Buffer; rowCount?: number; maxAgeMs?: number; allowedSources?: string[] } = {}) {
  const manifestPath = join(dir, `${name}.manifest.json`);
  const datasetPath = join(dir, `${name}.csv`);
  await writeFile(manifestPath, typeof manifest === 'string' ? manifest : formatManifest(manifest));
  await writeFile(datasetPath, options.dataset ?? data);
  return verifyManifest({
    manifestPath,
    datasetPath,
    trusted: [trustedDir],
    now: LATER,
    rowCount: options.rowCount ?? ROWS,
    ...(options.maxAgeMs !== undefined ? { maxAgeMs: options.maxAgeMs } : {}),
    ...(options.allowedSources ? { allowedSources: options.allowedSources } : {}),
  });
}

function failureSummary(result: Awaited<ReturnType<typeof verifyManifest>>): string[] {
  return result.failures.map((f) => (f.chunk !== undefined ? `${f.kind}:${f.chunk}:${f.range![0]}-${f.range![1]}` : f.field !== undefined ? `${f.kind}:${f.field}` : f.kind));
}

before(async () => {
  dir = await tempDir();
  trustedDir = join(dir, 'trusted');
  await writeKeyPair(trustedDir, 'alice');
  await writeKeyPair(join(dir, 'untrusted'), 'mallory');
  alice = await loadSigningKey(join(trustedDir, 'alice.key'));
  mallory = await loadSigningKey(join(dir, 'untrusted', 'mallory.key'));
  data = randomBytes(BYTES);
  await writeFile(join(dir, 'data.csv'), data);
});

describe('createManifest', () => {
  it('records sha256, size, rows, chunk hashes, source, signer and time', async () => {
    const manifest = await signed({ expiresInMs: 3_600_000 });
    assert.equal(manifest.format, 'datawarden-manifest/1');
    assert.equal(manifest.dataset.bytes, BYTES);
    assert.equal(manifest.dataset.rows, ROWS);
    assert.equal(manifest.dataset.chunks.length, 10);
    assert.equal(manifest.dataset.file, 'data.csv');
    assert.equal(manifest.source, 'vendor-a');
    assert.equal(manifest.signer, 'alice');
    assert.equal(manifest.keyId, alice.keyId);
    assert.equal(manifest.createdAt, '2024-05-01T12:00:00.000Z');
    assert.equal(manifest.expiresAt, '2024-05-01T13:00:00.000Z');
    assert.equal(Buffer.from(manifest.signature, 'base64').length, 64);
  });
});

describe('verifyManifest', () => {
  const flip = (offset: number): Buffer => {
    const copy = Buffer.from(data);
    copy[offset] = copy[offset]! ^ 0xff;
    return copy;
  };
  const cases: Array<{ name: string; make: () => Promise<{ manifest: Manifest | string; options?: Parameters<typeof verify>[2] }>; expected: string[] }> = [
    { name: 'valid', make: async () => ({ manifest: await signed() }), expected: [] },
    {
      name: 'forged-edit',
      make: async () => ({ manifest: { ...(await signed()), source: 'vendor-b' } }),
      expected: ['signature'],
    },
    {
      name: 'forged-key',
      // Signed by mallory but claiming alice's key id: the signature cannot verify under alice's key.
      make: async () => {
        const real = await signed();
        const { signature: _s, ...unsigned } = real;
        return { manifest: { ...signManifest(unsigned, mallory), keyId: alice.keyId } };
      },
      expected: ['signature'],
    },
    { name: 'untrusted', make: async () => ({ manifest: await signed({ key: mallory }) }), expected: ['signer'] },
    {
      name: 'one-byte',
      make: async () => ({ manifest: await signed(), options: { dataset: flip(5000) } }),
      expected: ['hash', 'chunk:4:4096-5120'],
    },
    {
      name: 'last-chunk',
      make: async () => ({ manifest: await signed(), options: { dataset: flip(BYTES - 1) } }),
      expected: ['hash', 'chunk:9:9216-10000'],
    },
    {
      name: 'truncated',
      make: async () => ({ manifest: await signed(), options: { dataset: data.subarray(0, 9000), rowCount: ROWS } }),
      expected: ['size', 'hash', 'chunk:8:8192-9000'],
    },
    { name: 'rows', make: async () => ({ manifest: await signed(), options: { rowCount: 99 } }), expected: ['rows'] },
    { name: 'expires-at', make: async () => ({ manifest: await signed({ expiresInMs: 3_600_000 }) }), expected: ['expired'] },
    { name: 'max-age', make: async () => ({ manifest: await signed(), options: { maxAgeMs: 12 * 3_600_000 } }), expected: ['expired'] },
    { name: 'within-max-age', make: async () => ({ manifest: await signed(), options: { maxAgeMs: 48 * 3_600_000 } }), expected: [] },
    { name: 'future', make: async () => ({ manifest: await signed({ now: new Date('2024-05-03T00:00:00.000Z') }) }), expected: ['expired'] },
    { name: 'source', make: async () => ({ manifest: await signed(), options: { allowedSources: ['vendor-b'] } }), expected: ['source'] },
    { name: 'not-json', make: async () => ({ manifest: '{"format": ' }), expected: ['malformed:(root)'] },
    {
      name: 'no-sha256',
      make: async () => {
        const manifest = JSON.parse(formatManifest(await signed())) as { dataset: Record<string, unknown> };
        delete manifest.dataset.sha256;
        return { manifest: JSON.stringify(manifest) };
      },
      expected: ['malformed:dataset.sha256'],
    },
    {
      name: 'bad-fields',
      make: async () => ({ manifest: JSON.stringify({ ...(await signed()), createdAt: 'yesterday', extra: 1 }) }),
      expected: ['malformed:extra', 'malformed:createdAt'],
    },
    {
      name: 'chunk-count',
      make: async () => {
        const manifest = await signed();
        return { manifest: JSON.stringify({ ...manifest, dataset: { ...manifest.dataset, chunks: manifest.dataset.chunks.slice(1) } }) };
      },
      expected: ['malformed:dataset.chunks'],
    },
  ];
  for (const testCase of cases) {
    it(`${testCase.name} -> ${testCase.expected.join(', ') || 'valid'}`, async () => {
      const { manifest, options } = await testCase.make();
      const result = await verify(testCase.name, manifest, options);
      assert.deepEqual(failureSummary(result), testCase.expected);
      assert.equal(result.ok, testCase.expected.length === 0);
    });
  }

  it('names the chunk and byte range in the message', async () => {
    const result = await verify('message', await signed(), { dataset: flip(5000) });
    assert.equal(result.failures[1]!.message, 'hash mismatch at chunk 4 (bytes 4096-5119)');
  });

  it('lists ten changed chunks and sums up the rest', async () => {
    const manifest = await createManifest({ datasetPath: join(dir, 'data.csv'), source: 's', key: alice, rowCount: ROWS, chunkBytes: 100, now: CREATED });
    const result = await verify('many', manifest, { dataset: Buffer.from(data.map((b) => b ^ 1)) });
    assert.equal(result.failures.filter((f) => f.kind === 'chunk' && f.chunk !== undefined).length, 10);
    assert.equal(result.failures.at(-1)!.message, 'hash mismatch in 90 more chunks');
  });

  it('counts rows with a function only when the bytes match', async () => {
    const manifest = await signed();
    const manifestPath = join(dir, 'count.manifest.json');
    await writeFile(manifestPath, formatManifest(manifest));
    const tampered = join(dir, 'count.csv');
    await writeFile(tampered, flip(0));
    const calls: string[] = [];
    const counter = async (path: string) => {
      calls.push(path);
      return ROWS + 1;
    };
    const trusted = await loadTrustedKeys([trustedDir]);
    const bad = await verifyManifest({ manifestPath, datasetPath: tampered, trusted, now: LATER, rowCount: counter });
    assert.deepEqual(failureSummary(bad), ['hash', 'chunk:0:0-1024']);
    assert.deepEqual(calls, []);
    const good = await verifyManifest({ manifestPath, datasetPath: join(dir, 'data.csv'), trusted, now: LATER, rowCount: counter });
    assert.deepEqual(failureSummary(good), ['rows']);
    assert.deepEqual(calls, [join(dir, 'data.csv')]);
  });

  it('throws InputError for an unreadable manifest or dataset', async () => {
    await assert.rejects(verifyManifest({ manifestPath: join(dir, 'absent.json'), datasetPath: join(dir, 'data.csv'), trusted: [trustedDir] }), InputError);
    const manifestPath = join(dir, 'ok.manifest.json');
    await writeFile(manifestPath, formatManifest(await signed()));
    await assert.rejects(verifyManifest({ manifestPath, datasetPath: join(dir, 'absent.csv'), trusted: [trustedDir], now: LATER }), InputError);
  });

  it('is not fooled by re-indenting the manifest (the signature covers the canonical form)', async () => {
    const manifest = await signed();
    const result = await verify('compact', JSON.stringify(manifest));
    assert.deepEqual(result.failures, []);
  });

  it('detects bytes appended to the dataset', async () => {
    const grown = join(dir, 'grown.csv');
    await writeFile(grown, data);
    await appendFile(grown, 'x');
    assert.equal((await stat(grown)).size, BYTES + 1);
    const manifestPath = join(dir, 'grown.manifest.json');
    await writeFile(manifestPath, formatManifest(await signed()));
    const result = await verifyManifest({ manifestPath, datasetPath: grown, trusted: [trustedDir], now: LATER });
    assert.deepEqual(failureSummary(result), ['size', 'hash', 'chunk:9:9216-10001']);
  });

  it('writes manifests that read back byte-identical', async () => {
    const manifest = await signed();
    const path = join(dir, 'roundtrip.json');
    await writeFile(path, formatManifest(manifest));
    assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), manifest);
  });
});
