// Ed25519 signing keys: generating a pair, loading a private key to sign with, and loading the
// set of public keys a verifier trusts. A key is identified by the sha256 of its public key
// (SPKI DER), so renaming a key file never changes whom a signature belongs to.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { access, mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { InputError } from '../core/errors.js';
import { writeFileAtomic } from '../io/atomic.js';

export const PRIVATE_KEY_SUFFIX = '.key';
export const PUBLIC_KEY_SUFFIX = '.pub';

/** The hex sha256 of a public key's SPKI DER encoding. */
export function keyId(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ format: 'der', type: 'spki' })).digest('hex');
}

export interface KeyPairFiles {
  readonly privateKeyPath: string;
  readonly publicKeyPath: string;
  readonly keyId: string;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Generates an Ed25519 pair and writes `<name>.key` (PKCS8 PEM, mode 0600) and `<name>.pub`
 * (SPKI PEM) into `directory`. Refuses to replace either file unless `force`.
 */
export async function writeKeyPair(directory: string, name: string, options: { force?: boolean } = {}): Promise<KeyPairFiles> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new InputError('signer name must start with a letter or digit and hold only letters, digits, ".", "_" and "-"', { subject: name });
  }
  const privateKeyPath = join(directory, `${name}${PRIVATE_KEY_SUFFIX}`);
  const publicKeyPath = join(directory, `${name}${PUBLIC_KEY_SUFFIX}`);
  if (!options.force) {
    for (const path of [privateKeyPath, publicKeyPath]) {
      if (await exists(path)) throw new InputError('already exists; pass --force to replace it', { subject: path });
    }
  }
  await mkdir(directory, { recursive: true });
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const privatePem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
  const publicPem = publicKey.export({ format: 'pem', type: 'spki' }) as string;
  // Without --force the private key is created exclusively, so a concurrent keygen cannot be overwritten.
  await writeFileAtomic(privateKeyPath, privatePem, { mode: 0o600, exclusive: !options.force });
  await writeFileAtomic(publicKeyPath, publicPem, { mode: 0o644, exclusive: !options.force });
  return { privateKeyPath, publicKeyPath, keyId: keyId(publicKey) };
}

export interface SigningKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly keyId: string;
  /** The key file's base name without `.key`, the default signer name. */
  readonly name: string;
  /** Set when the file can be read by group or others. */
  readonly looseMode: boolean;
}

async function readKeyFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read key file (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { subject: path, cause: error });
  }
}

export async function loadSigningKey(path: string): Promise<SigningKey> {
  const pem = await readKeyFile(path);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (error) {
    throw new InputError('not a PEM private key', { subject: path, cause: error });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new InputError(`expected an Ed25519 key, got ${privateKey.asymmetricKeyType ?? 'unknown'}`, { subject: path });
  }
  const publicKey = createPublicKey(privateKey);
  const mode = (await stat(path)).mode;
  const name = basename(path).endsWith(PRIVATE_KEY_SUFFIX) ? basename(path).slice(0, -PRIVATE_KEY_SUFFIX.length) : basename(path);
  return { privateKey, publicKey, keyId: keyId(publicKey), name, looseMode: (mode & 0o077) !== 0 };
}

export interface TrustedKey {
  readonly name: string;
  readonly path: string;
  readonly publicKey: KeyObject;
  readonly keyId: string;
}

/** Trusted public keys by key id. */
export type TrustedKeys = ReadonlyMap<string, TrustedKey>;

async function loadPublicKey(path: string): Promise<TrustedKey> {
  const pem = await readKeyFile(path);
  // createPublicKey would accept a private key too; a private key in a trust store is a leak.
  if (pem.includes('PRIVATE KEY')) throw new InputError('is a private key; trust the public key (.pub) instead', { subject: path });
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(pem);
  } catch (error) {
    throw new InputError('not a PEM public key', { subject: path, cause: error });
  }
  if (publicKey.type !== 'public' || publicKey.asymmetricKeyType !== 'ed25519') {
    throw new InputError(`expected an Ed25519 public key, got ${publicKey.type} ${publicKey.asymmetricKeyType ?? 'unknown'}`, { subject: path });
  }
  const file = basename(path);
  const name = file.endsWith(PUBLIC_KEY_SUFFIX) ? file.slice(0, -PUBLIC_KEY_SUFFIX.length) : file;
  return { name, path, publicKey, keyId: keyId(publicKey) };
}

/**
 * Loads public keys from files and directories (a directory contributes every `*.pub` in it).
 * A directory without any `.pub` file is an error: an empty trust store is always a mistake.
 */
export async function loadTrustedKeys(paths: readonly string[]): Promise<TrustedKeys> {
  const keys = new Map<string, TrustedKey>();
  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch (error) {
      throw new InputError(`cannot read trusted key path (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { subject: path, cause: error });
    }
    const files = info.isDirectory()
      ? (await readdir(path)).filter((file) => file.endsWith(PUBLIC_KEY_SUFFIX)).sort().map((file) => join(path, file))
      : [path];
    if (files.length === 0) throw new InputError(`no ${PUBLIC_KEY_SUFFIX} files in trusted key directory`, { subject: path });
    for (const file of files) {
      const key = await loadPublicKey(file);
      keys.set(key.keyId, key);
    }
  }
  return keys;
}
