// Redis connection URLs (REDIS_URL): redis:// and rediss:// with user, password and database.
import { InputError } from './errors.js';

const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const DEFAULT_KEY_PREFIX = 'datawarden';

/** The Redis to use: REDIS_URL, else a local one. */
export function redisUrlFrom(env: NodeJS.ProcessEnv = process.env): string {
  return env.REDIS_URL || DEFAULT_REDIS_URL;
}

/** What the queue's and the replay memory's Redis keys start with: DATAWARDEN_QUEUE_PREFIX, else datawarden. */
export function keyPrefixFrom(env: NodeJS.ProcessEnv = process.env): string {
  return env.DATAWARDEN_QUEUE_PREFIX || DEFAULT_KEY_PREFIX;
}

export interface RedisConnectionOptions {
  readonly host: string;
  readonly port: number;
  readonly username?: string;
  readonly password?: string;
  readonly db?: number;
  /** Set for rediss:// (TLS). */
  readonly tls?: Record<string, never>;
}

/** Parses redis://[user:password@]host[:port][/db] and rediss://...; InputError otherwise. */
export function redisOptionsFromUrl(url: string): RedisConnectionOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InputError('not a URL (expected redis://host:6379 or rediss://...)', { subject: 'REDIS_URL' });
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new InputError(`unsupported scheme '${parsed.protocol}' (expected redis:// or rediss://)`, { subject: 'REDIS_URL' });
  }
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : undefined;
  if (db !== undefined && !Number.isSafeInteger(db)) throw new InputError(`database '${parsed.pathname.slice(1)}' is not a number`, { subject: 'REDIS_URL' });
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(db !== undefined ? { db } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** The URL without its password, for logs. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(invalid URL)';
  }
}
