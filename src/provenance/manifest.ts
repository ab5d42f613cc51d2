// A signed manifest says: this dataset file, with these bytes and this many rows, came from this
// source and was vouched for by this key at this time. Verification checks every claim and says
// which ones fail, so a rejected feed comes with a reason a person can act on.
import { sign, verify } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { InputError } from '../core/errors.js';
import { canonicalJson, type JsonValue } from './canonical-json.js';
import { DEFAULT_CHUNK_BYTES, digestFile } from './file-hash.js';
import { loadTrustedKeys, type SigningKey, type TrustedKeys } from './keys.js';

export const MANIFEST_FORMAT = 'datawarden-manifest/1';

export interface ManifestDataset {
  /** The file's base name when signed; informational, as files get renamed. */
  readonly file: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly rows: number;
  readonly chunkBytes: number;
  /** sha256 of each chunkBytes-sized byte range, in order; the last may be shorter. */
  readonly chunks: readonly string[];
}

export interface Manifest {
  readonly format: typeof MANIFEST_FORMAT;
  readonly source: string;
  /** ISO-8601 UTC, e.g. 2024-05-01T12:00:00.000Z. */
  readonly createdAt: string;
  readonly expiresAt?: string;
  readonly signer: string;
  /** sha256 (hex) of the signer's public key, SPKI DER. */
  readonly keyId: string;
  readonly dataset: ManifestDataset;
  /** Base64 Ed25519 signature over the canonical JSON of every other field. */
  readonly signature: string;
}

export type UnsignedManifest = Omit<Manifest, 'signature'>;

export type ManifestFailureKind = 'signature' | 'signer' | 'hash' | 'chunk' | 'size' | 'rows' | 'expired' | 'malformed' | 'missing' | 'source';

export interface ManifestFailure {
  readonly kind: ManifestFailureKind;
  readonly message: string;
  /** For `chunk`: the chunk's index and its byte range [start, end). */
  readonly chunk?: number;
  readonly range?: readonly [start: number, end: number];
  /** For `malformed`: the field at fault, as a path (`dataset.chunks[2]`). */
  readonly field?: string;
}

export interface ManifestVerification {
  readonly ok: boolean;
  readonly failures: readonly ManifestFailure[];
  /** The parsed manifest, or null when it is malformed. */
  readonly manifest: Manifest | null;
}

/** How far in the future a createdAt may lie before it is treated as a clock or signer fault. */
const CLOCK_SKEW_MS = 5 * 60_000;
/** Chunk failures listed one by one before the rest are summed up in one line. */
const MAX_LISTED_CHUNKS = 10;

/** The exact bytes the signature covers: canonical JSON (sorted keys, no whitespace) without `signature`. */
export function manifestSigningBytes(manifest: UnsignedManifest | Manifest): Buffer {
  const { signature: _ignored, ...unsigned } = manifest as Manifest;
  return Buffer.from(canonicalJson(unsigned as unknown as JsonValue), 'utf8');
}

export function signManifest(unsigned: UnsignedManifest, key: SigningKey): Manifest {
  const signature = sign(null, manifestSigningBytes(unsigned), key.privateKey).toString('base64');
  return { ...unsigned, signature };
}

export interface CreateManifestOptions {
  readonly datasetPath: string;
  readonly source: string;
  readonly key: SigningKey;
  /** Rows in the dataset, as the readers count them (src/io/count.ts). */
  readonly rowCount: number;
  /** Default: the key file's base name. */
  readonly signer?: string;
  readonly chunkBytes?: number;
  /** Sets expiresAt this long after createdAt. */
  readonly expiresInMs?: number;
  readonly now?: Date;
}

export async function createManifest(options: CreateManifestOptions): Promise<Manifest> {
  if (!options.source.trim()) throw new InputError('source id must not be empty', { subject: '--source' });
  if (!Number.isSafeInteger(options.rowCount) || options.rowCount < 0) throw new RangeError(`row count must be a non-negative integer, got ${options.rowCount}`);
  const digest = await digestFile(options.datasetPath, options.chunkBytes ?? DEFAULT_CHUNK_BYTES);
  const now = options.now ?? new Date();
  const unsigned: UnsignedManifest = {
    format: MANIFEST_FORMAT,
    source: options.source,
    createdAt: now.toISOString(),
    ...(options.expiresInMs !== undefined ? { expiresAt: new Date(now.getTime() + options.expiresInMs).toISOString() } : {}),
    signer: options.signer ?? options.key.name,
    keyId: options.key.keyId,
    dataset: {
      file: basename(options.datasetPath),
      sha256: digest.sha256,
      bytes: digest.bytes,
      rows: options.rowCount,
      chunkBytes: digest.chunkBytes,
      chunks: digest.chunks,
    },
  };
  return signManifest(unsigned, options.key);
}

/** The manifest as written to disk: indented for people; the signature covers the canonical form, not this one. */
export function formatManifest(manifest: Manifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

// ---- parsing ---------------------------------------------------------------------------------

const HEX64 = /^[0-9a-f]{64}$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const ROOT_FIELDS = new Set(['format', 'source', 'createdAt', 'expiresAt', 'signer', 'keyId', 'dataset', 'signature']);
const DATASET_FIELDS = new Set(['file', 'sha256', 'bytes', 'rows', 'chunkBytes', 'chunks']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks a parsed JSON value field by field; returns every problem, each naming its field. */
export function validateManifest(value: unknown): ManifestFailure[] {
  const failures: ManifestFailure[] = [];
  const fail = (field: string, problem: string): void => {
    failures.push({ kind: 'malformed', field, message: `malformed manifest: ${field}: ${problem}` });
  };
  if (!isRecord(value)) {
    fail('(root)', 'expected a JSON object');
    return failures;
  }
  for (const key of Object.keys(value)) if (!ROOT_FIELDS.has(key)) fail(key, 'unknown field');
  if (value.format !== MANIFEST_FORMAT) fail('format', `expected "${MANIFEST_FORMAT}", got ${JSON.stringify(value.format) ?? 'nothing'}`);
  for (const field of ['source', 'signer'] as const) {
    if (typeof value[field] !== 'string' || (value[field] as string).trim() === '') fail(field, 'expected a non-empty string');
  }
  for (const field of ['createdAt', 'expiresAt'] as const) {
    if (field === 'expiresAt' && value[field] === undefined) continue;
    const text = value[field];
    if (typeof text !== 'string' || !ISO_UTC.test(text) || !Number.isFinite(Date.parse(text))) {
      fail(field, 'expected an ISO-8601 UTC time such as 2024-05-01T12:00:00.000Z');
    }
  }
  if (typeof value.keyId !== 'string' || !HEX64.test(value.keyId)) fail('keyId', 'expected 64 lowercase hex characters');
  if (typeof value.signature !== 'string' || !BASE64.test(value.signature)) fail('signature', 'expected a base64 string');
  const dataset = value.dataset;
  if (!isRecord(dataset)) {
    fail('dataset', 'expected an object');
    return failures;
  }
  for (const key of Object.keys(dataset)) if (!DATASET_FIELDS.has(key)) fail(`dataset.${key}`, 'unknown field');
  if (typeof dataset.file !== 'string') fail('dataset.file', 'expected a string');
  if (typeof dataset.sha256 !== 'string' || !HEX64.test(dataset.sha256)) fail('dataset.sha256', 'expected 64 lowercase hex characters');
  for (const field of ['bytes', 'rows'] as const) {
    if (!Number.isSafeInteger(dataset[field]) || (dataset[field] as number) < 0) fail(`dataset.${field}`, 'expected a non-negative integer');
  }
  const chunkBytesOk = Number.isSafeInteger(dataset.chunkBytes) && (dataset.chunkBytes as number) > 0;
  if (!chunkBytesOk) fail('dataset.chunkBytes', 'expected a positive integer');
  if (!Array.isArray(dataset.chunks)) {
    fail('dataset.chunks', 'expected an array of sha256 hex strings');
  } else {
    dataset.chunks.forEach((chunk, index) => {
      if (typeof chunk !== 'string' || !HEX64.test(chunk)) fail(`dataset.chunks[${index}]`, 'expected 64 lowercase hex characters');
    });
    if (chunkBytesOk && Number.isSafeInteger(dataset.bytes)) {
      const expected = Math.ceil((dataset.bytes as number) / (dataset.chunkBytes as number));
      if (dataset.chunks.length !== expected) {
        fail('dataset.chunks', `${dataset.bytes} bytes in ${dataset.chunkBytes}-byte chunks make ${expected} chunks, the manifest lists ${dataset.chunks.length}`);
      }
    }
  }
  return failures;
}

/** Parses manifest text; a manifest that is not valid JSON or misses a field yields `malformed` failures. */
export function parseManifest(text: string): { manifest: Manifest; failures: [] } | { manifest: null; failures: ManifestFailure[] } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { manifest: null, failures: [{ kind: 'malformed', field: '(root)', message: `malformed manifest: not JSON (${(error as Error).message})` }] };
  }
  const failures = validateManifest(value);
  return failures.length > 0 ? { manifest: null, failures } : { manifest: value as Manifest, failures: [] };
}

// ---- verification ----------------------------------------------------------------------------

export interface VerifyManifestOptions {
  readonly manifestPath: string;
  readonly datasetPath: string;
  /** Loaded keys, or public key files and directories to load them from. */
  readonly trusted: TrustedKeys | readonly string[];
  /** Reject a manifest created longer ago than this. */
  readonly maxAgeMs?: number;
  /** When given, the manifest's source must be one of these. */
  readonly allowedSources?: readonly string[];
  readonly now?: Date;
  /**
   * The dataset's row count, or a function that counts it. A function is called only when the
   * content hash matches: on other bytes the count means nothing and the reader may fail.
   * Without either, the row count is not checked (the sha256 already binds the content).
   */
  readonly rowCount?: number | ((datasetPath: string) => Promise<number>);
}

async function readManifestText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read manifest (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { subject: path, cause: error });
  }
}

function checkSignature(manifest: Manifest, trusted: TrustedKeys): ManifestFailure[] {
  const key = trusted.get(manifest.keyId);
  if (!key) {
    const names = [...trusted.values()].map((k) => k.name).join(', ') || 'none';
    return [{ kind: 'signer', message: `signer '${manifest.signer}' (key ${manifest.keyId.slice(0, 16)}…) is not a trusted key (trusted: ${names})` }];
  }
  const signature = Buffer.from(manifest.signature, 'base64');
  if (!verify(null, manifestSigningBytes(manifest), key.publicKey, signature)) {
    return [{ kind: 'signature', message: `bad signature: the manifest was not signed by trusted key '${key.name}' as it reads now (edited, or signed by another key)` }];
  }
  return [];
}

function checkTime(manifest: Manifest, now: Date, maxAgeMs: number | undefined): ManifestFailure[] {
  const failures: ManifestFailure[] = [];
  const created = Date.parse(manifest.createdAt);
  if (manifest.expiresAt !== undefined && now.getTime() > Date.parse(manifest.expiresAt)) {
    failures.push({ kind: 'expired', message: `expired: the manifest expired at ${manifest.expiresAt}` });
  }
  if (maxAgeMs !== undefined && now.getTime() - created > maxAgeMs) {
    const hours = ((now.getTime() - created) / 3_600_000).toFixed(1);
    failures.push({ kind: 'expired', message: `expired: created ${manifest.createdAt}, ${hours} h ago, older than the ${maxAgeMs / 3_600_000} h allowed` });
  }
  if (created - now.getTime() > CLOCK_SKEW_MS) {
    failures.push({ kind: 'expired', message: `createdAt ${manifest.createdAt} lies in the future; the signer's clock is wrong` });
  }
  return failures;
}

async function checkContent(
  manifest: Manifest,
  datasetPath: string,
  rowCount: VerifyManifestOptions['rowCount'],
): Promise<ManifestFailure[]> {
  const failures: ManifestFailure[] = [];
  const expected = manifest.dataset;
  let size: number;
  try {
    size = (await stat(datasetPath)).size;
  } catch (error) {
    throw new InputError(`cannot read dataset (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { subject: datasetPath, cause: error });
  }
  if (size !== expected.bytes) failures.push({ kind: 'size', message: `size mismatch: the manifest says ${expected.bytes} bytes, the file has ${size}` });
  const digest = await digestFile(datasetPath, expected.chunkBytes);
  const hashMatches = digest.sha256 === expected.sha256;
  if (!hashMatches) {
    failures.push({ kind: 'hash', message: `hash mismatch: the file's sha256 is ${digest.sha256}, the manifest says ${expected.sha256}` });
    const changed: number[] = [];
    const common = Math.min(digest.chunks.length, expected.chunks.length);
    for (let index = 0; index < common; index++) if (digest.chunks[index] !== expected.chunks[index]) changed.push(index);
    for (const index of changed.slice(0, MAX_LISTED_CHUNKS)) {
      const start = index * expected.chunkBytes;
      const end = Math.min(start + expected.chunkBytes, digest.bytes);
      failures.push({ kind: 'chunk', chunk: index, range: [start, end], message: `hash mismatch at chunk ${index} (bytes ${start}-${end - 1})` });
    }
    if (changed.length > MAX_LISTED_CHUNKS) {
      failures.push({ kind: 'chunk', message: `hash mismatch in ${changed.length - MAX_LISTED_CHUNKS} more chunks` });
    }
  }
  if (typeof rowCount === 'number' || (typeof rowCount === 'function' && hashMatches)) {
    const rows = typeof rowCount === 'number' ? rowCount : await rowCount(datasetPath);
    if (rows !== expected.rows) failures.push({ kind: 'rows', message: `row count mismatch: the manifest says ${expected.rows} rows, the file has ${rows}` });
  }
  return failures;
}

/**
 * Checks a manifest against a dataset: well-formed, signed by a trusted key, not expired, from an
 * allowed source, and describing these exact bytes and rows. Unreadable files throw InputError;
 * everything else is a failure in the result.
 */
export async function verifyManifest(options: VerifyManifestOptions): Promise<ManifestVerification> {
  const parsed = parseManifest(await readManifestText(options.manifestPath));
  if (!parsed.manifest) return { ok: false, failures: parsed.failures, manifest: null };
  const manifest = parsed.manifest;
  const trusted = Array.isArray(options.trusted) ? await loadTrustedKeys(options.trusted as readonly string[]) : (options.trusted as TrustedKeys);
  const failures: ManifestFailure[] = [
    ...checkSignature(manifest, trusted),
    ...checkTime(manifest, options.now ?? new Date(), options.maxAgeMs),
  ];
  if (options.allowedSources && !options.allowedSources.includes(manifest.source)) {
    failures.push({ kind: 'source', message: `source '${manifest.source}' is not an allowed source (${options.allowedSources.join(', ') || 'none allowed'})` });
  }
  failures.push(...(await checkContent(manifest, options.datasetPath, options.rowCount)));
  return { ok: failures.length === 0, failures, manifest };
}
