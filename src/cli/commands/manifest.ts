// datawarden manifest create / verify: sign a dataset's hashes, size, row count and source, and
// check a dataset against such a manifest before anything trains on it.
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { countRows } from '../../io/count.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { DEFAULT_CHUNK_BYTES } from '../../provenance/file-hash.js';
import { loadSigningKey } from '../../provenance/keys.js';
import { createManifest, formatManifest, verifyManifest } from '../../provenance/manifest.js';
import { DURATION_HELP, parseByteSize, parseDuration } from '../../provenance/units.js';
import { EXIT, stringOption, UsageError, type Command, type OptionValues } from '../command.js';

function durationOption(values: OptionValues, name: string): number | undefined {
  const text = stringOption(values, name);
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms === null) throw new UsageError(`--${name} must be ${DURATION_HELP}, got '${text}'`);
  return ms;
}

function listOption(values: OptionValues, name: string): string[] {
  const value = values[name];
  return Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
}

export const manifestCreateCommand: Command = {
  name: 'manifest create',
  summary: 'Sign a manifest of a dataset (sha256, chunk hashes, size, rows, source)',
  usage: 'manifest create <dataset> --source ID --key FILE [--out FILE] [--signer NAME] [--expires DURATION]',
  positionals: [1, 1],
  options: {
    source: { type: 'string', help: 'the id of the feed the dataset comes from' },
    key: { type: 'string', help: 'the signer\'s private key (<name>.key from keygen)' },
    out: { type: 'string', help: 'where to write the manifest (default: <dataset>.manifest.json)' },
    signer: { type: 'string', help: 'signer name recorded in the manifest (default: the key file\'s base name)' },
    expires: { type: 'string', help: `let the manifest expire after ${DURATION_HELP}` },
    'chunk-size': { type: 'string', help: `bytes per hashed chunk, e.g. 1MiB (default ${DEFAULT_CHUNK_BYTES / 1024 / 1024}MiB)` },
  },
  details: `The signature is Ed25519 over the manifest's canonical JSON (sorted keys, no whitespace,
without the signature field); see docs/provenance.md. The manifest is written under a temporary
name and renamed when complete.`,
  async run([dataset], values, { log, stdout }) {
    const source = stringOption(values, 'source');
    const keyPath = stringOption(values, 'key');
    if (!source) throw new UsageError('--source is required');
    if (!keyPath) throw new UsageError('--key is required');
    const chunkText = stringOption(values, 'chunk-size');
    const chunkBytes = chunkText === undefined ? DEFAULT_CHUNK_BYTES : parseByteSize(chunkText);
    if (chunkBytes === null) throw new UsageError(`--chunk-size must be a byte count such as 4MiB or 65536, got '${chunkText}'`);
    const expiresInMs = durationOption(values, 'expires');
    const key = await loadSigningKey(keyPath);
    if (key.looseMode) log.warn({ key: keyPath }, 'private key file is readable by group or others; chmod 600 it');
    const rowCount = await countRows(dataset!);
    const manifest = await createManifest({
      datasetPath: dataset!,
      source,
      key,
      rowCount,
      chunkBytes,
      ...(stringOption(values, 'signer') !== undefined ? { signer: stringOption(values, 'signer')! } : {}),
      ...(expiresInMs !== undefined ? { expiresInMs } : {}),
    });
    const out = stringOption(values, 'out') ?? `${dataset}.manifest.json`;
    await mkdir(dirname(out), { recursive: true });
    await writeFileAtomic(out, formatManifest(manifest));
    log.info({ manifest: out, sha256: manifest.dataset.sha256, rows: manifest.dataset.rows, keyId: manifest.keyId }, 'manifest signed');
    stdout.write(`signed ${out}: ${manifest.dataset.bytes} bytes, ${manifest.dataset.rows} rows, source ${manifest.source}, signer ${manifest.signer}\n`);
    return EXIT.pass;
  },
};

export const manifestVerifyCommand: Command = {
  name: 'manifest verify',
  summary: 'Check a dataset against its signed manifest',
  usage: 'manifest verify <manifest> --dataset FILE --trusted KEYS [--max-age DURATION] [--source ID]',
  positionals: [1, 1],
  options: {
    dataset: { type: 'string', help: 'the dataset file the manifest describes' },
    trusted: { type: 'string', multiple: true, help: 'a trusted public key file or a directory of .pub files (repeatable)' },
    'max-age': { type: 'string', help: `reject manifests older than ${DURATION_HELP}` },
    source: { type: 'string', multiple: true, help: 'an allowed source id (repeatable; default: any)' },
    json: { type: 'boolean', help: 'print the verification result as JSON' },
  },
  details: `Checks the signature and signer, expiry, source, size, sha256 (naming each changed
chunk and its byte range) and row count, and lists every failure.
Exit codes: 0 valid, 2 verification failed, 3 unreadable input.`,
  async run([manifestPath], values, { log, stdout }) {
    const datasetPath = stringOption(values, 'dataset');
    const trusted = listOption(values, 'trusted');
    if (!datasetPath) throw new UsageError('--dataset is required');
    if (trusted.length === 0) throw new UsageError('--trusted is required');
    const maxAgeMs = durationOption(values, 'max-age');
    const sources = listOption(values, 'source');
    const result = await verifyManifest({
      manifestPath: manifestPath!,
      datasetPath,
      trusted,
      rowCount: countRows,
      ...(maxAgeMs !== undefined ? { maxAgeMs } : {}),
      ...(sources.length > 0 ? { allowedSources: sources } : {}),
    });
    log.info({ manifest: manifestPath, ok: result.ok, failures: result.failures.map((f) => f.kind) }, 'manifest verified');
    if (values.json) {
      stdout.write(`${JSON.stringify({ ok: result.ok, failures: result.failures }, null, 2)}\n`);
    } else if (result.ok) {
      const m = result.manifest!;
      stdout.write(`VALID: ${datasetPath} matches ${manifestPath} (source ${m.source}, signer ${m.signer}, ${m.dataset.rows} rows, sha256 ${m.dataset.sha256})\n`);
    } else {
      stdout.write(`INVALID: ${datasetPath} against ${manifestPath}\n${result.failures.map((f) => `  ${f.kind}: ${f.message}\n`).join('')}`);
    }
    return result.ok ? EXIT.pass : EXIT.fail;
  },
};
