import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { InputError } from '../../src/core/errors.js';
import { resolveProvenance, validateProvenanceSection } from '../../src/provenance/contract-section.js';
import { provenanceFindings } from '../../src/provenance/findings.js';
import { loadSigningKey, writeKeyPair } from '../../src/provenance/keys.js';
import { createManifest, formatManifest } from '../../src/provenance/manifest.js';
import { tempDir } from './helpers.js';

describe('validateProvenanceSection', () => {
  const cases: Array<[string, unknown, string[]]> = [
    ['absent', undefined, []],
    ['full', { trustedKeys: ['keys/'], allowedSources: ['a', 'b'], requireManifest: true, maxManifestAge: '7d', replayIgnore: ['ingested_at'] }, []],
    ['not an object', ['keys'], ['provenance: expected an object']],
    ['unknown field', { trusted: ['k'] }, ['provenance.trusted: unknown field (expected one of trustedKeys, allowedSources, requireManifest, maxManifestAge, replayIgnore, auditLog)']],
    ['keys not a list', { trustedKeys: 'keys/' }, ['provenance.trustedKeys: expected a list of strings']],
    ['empty source id', { allowedSources: ['a', ''] }, ['provenance.allowedSources[1]: expected a non-empty string']],
    ['bool as string', { requireManifest: 'yes', trustedKeys: ['k'] }, ['provenance.requireManifest: expected true or false']],
    ['bad duration', { maxManifestAge: '7 days' }, ['provenance.maxManifestAge: expected a duration such as 30m, 12h, 7d or 1d12h (units ms, s, m, h, d, w), got "7 days"']],
    ['required without keys', { requireManifest: true }, ['provenance.trustedKeys: requireManifest needs at least one trusted key']],
  ];
  for (const [name, value, expected] of cases) it(name, () => assert.deepEqual(validateProvenanceSection(value), expected));
});

describe('resolveProvenance', () => {
  it('resolves key paths against the contract directory and parses the age', () => {
    const resolved = resolveProvenance({ trustedKeys: ['keys', '/etc/dw/ops.pub'], maxManifestAge: '12h', auditLog: '../runs/audit.jsonl' }, '/data/contracts');
    assert.deepEqual(resolved, {
      trustedKeys: ['/data/contracts/keys', '/etc/dw/ops.pub'],
      allowedSources: null,
      requireManifest: false,
      maxManifestAgeMs: 12 * 3_600_000,
      replayIgnore: [],
      auditLog: '/data/runs/audit.jsonl',
    });
  });
  it('throws InputError with the first error and how many more', () => {
    assert.throws(
      () => resolveProvenance({ trustedKeys: 1, requireManifest: 2 }, '/'),
      (e: unknown) => e instanceof InputError && e.message === 'provenance.trustedKeys: expected a list of strings (and 1 more)',
    );
  });
});

describe('provenanceFindings', () => {
  let dir: string;
  let manifestPath: string;
  let datasetPath: string;
  const now = new Date('2024-05-01T13:00:00.000Z');

  before(async () => {
    dir = await tempDir();
    await writeKeyPair(join(dir, 'keys'), 'feed');
    datasetPath = join(dir, 'data.csv');
    await writeFile(datasetPath, randomBytes(3000));
    const key = await loadSigningKey(join(dir, 'keys', 'feed.key'));
    const manifest = await createManifest({ datasetPath, source: 'vendor-a', key, rowCount: 10, chunkBytes: 1024, now: new Date('2024-05-01T12:00:00.000Z') });
    manifestPath = join(dir, 'data.manifest.json');
    await writeFile(manifestPath, formatManifest(manifest));
  });

  const cases: Array<{ name: string; section: unknown; manifest: boolean; tamper?: boolean; expected: string[] }> = [
    { name: 'no section, no manifest', section: undefined, manifest: false, expected: [] },
    { name: 'manifest optional and absent', section: { trustedKeys: ['keys'] }, manifest: false, expected: [] },
    { name: 'required manifest missing', section: { trustedKeys: ['keys'], requireManifest: true }, manifest: false, expected: ['provenance:missing'] },
    { name: 'valid manifest', section: { trustedKeys: ['keys'], allowedSources: ['vendor-a'], maxManifestAge: '2h', requireManifest: true }, manifest: true, expected: [] },
    { name: 'source not allowed', section: { trustedKeys: ['keys'], allowedSources: ['vendor-b'] }, manifest: true, expected: ['provenance:source'] },
    { name: 'too old', section: { trustedKeys: ['keys'], maxManifestAge: '30m' }, manifest: true, expected: ['provenance:expired'] },
    { name: 'no trusted keys', section: {}, manifest: true, expected: ['provenance:signer'] },
    { name: 'tampered data', section: { trustedKeys: ['keys'] }, manifest: true, tamper: true, expected: ['provenance:hash', 'provenance:chunk'] },
  ];
  for (const testCase of cases) {
    it(`${testCase.name} -> ${testCase.expected.join(', ') || 'no findings'}`, async () => {
      let dataset = datasetPath;
      if (testCase.tamper) {
        dataset = join(dir, 'tampered.csv');
        await writeFile(dataset, Buffer.alloc(3000));
      }
      const findings = await provenanceFindings({
        provenance: testCase.section,
        contractDir: dir,
        datasetPath: dataset,
        ...(testCase.manifest ? { manifestPath } : {}),
        rowCount: 10,
        now,
      });
      assert.deepEqual(findings.map((f) => f.code).filter((code, i, all) => all.indexOf(code) === i), testCase.expected);
      for (const finding of findings) {
        assert.equal(finding.check, 'provenance');
        assert.equal(finding.severity, 'fail');
        assert.equal(finding.holdAllRows, true);
      }
    });
  }

  it('puts the chunk and byte range in the finding details', async () => {
    const dataset = join(dir, 'one-chunk.csv');
    const bytes = await readFile(datasetPath);
    bytes[2500] = bytes[2500]! ^ 1;
    await writeFile(dataset, bytes);
    const findings = await provenanceFindings({ provenance: { trustedKeys: ['keys'] }, contractDir: dir, datasetPath: dataset, manifestPath, now });
    assert.deepEqual(
      findings.map((f) => [f.code, f.details?.chunk, f.details?.range]),
      [
        ['provenance:hash', undefined, undefined],
        ['provenance:chunk', 2, [2048, 3000]],
      ],
    );
  });
});
