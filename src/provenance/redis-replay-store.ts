// The replay memory kept in Redis (`--memory redis:<name>`), so queue workers on many machines
// share one store without a shared file system. Two hashes under `<prefix>:replay:<name>`:
// `:bad` (field: the with-label fingerprint, value: the known-bad record) and `:seen` (field: the
// dataset id, value: its seen keys). Records are those of the file format, one per field.
// The store is read whole when opened, as a file store is, and saving writes field by field, so
// two scans saving at once need no lock: known-bad rows are the union (HSETNX keeps the first
// confirmation) and a dataset's seen keys are those of the scan that saved it last.
import type { Redis } from 'ioredis';
import { InputError } from '../core/errors.js';
import { keyPrefixFrom, redactedUrl, redisOptionsFromUrl, redisUrlFrom } from '../core/redis-url.js';
import { addRecordText, formatRecord, MemoryReplayStore, type StoreState } from './replay-store.js';

/** How `--memory` names a store kept in Redis. */
export const REDIS_MEMORY_SCHEME = 'redis:';

export interface RedisReplayStoreOptions {
  /** Default REDIS_URL, else redis://127.0.0.1:6379. */
  readonly redisUrl?: string;
  /** Key prefix; default DATAWARDEN_QUEUE_PREFIX, else datawarden (the queue's). */
  readonly prefix?: string;
}

const NAME = /^[A-Za-z0-9._-]{1,100}$/;

export class RedisReplayStore extends MemoryReplayStore {
  /** Known-bad entries already in Redis: those read at open, then those saved (entries only grow). */
  private savedEntries = 0;

  private constructor(
    readonly name: string,
    private readonly redisUrl: string,
    private readonly key: string,
  ) {
    super();
  }

  /** The store named `name` (`redis:<name>` without its scheme); an absent one is empty. */
  static async open(name: string, options: RedisReplayStoreOptions = {}): Promise<RedisReplayStore> {
    const subject = `${REDIS_MEMORY_SCHEME}${name}`;
    if (!NAME.test(name)) throw new InputError('a Redis replay memory name is 1-100 letters, digits, dots, dashes or underscores', { subject });
    const redisUrl = options.redisUrl ?? redisUrlFrom();
    const prefix = options.prefix ?? keyPrefixFrom();
    const store = new RedisReplayStore(name, redisUrl, `${prefix}:replay:${name}`);
    const [bad, seen] = await store.withRedis((redis) => Promise.all([redis.hgetall(`${store.key}:bad`), redis.hgetall(`${store.key}:seen`)]));
    store.merge(store.parse(bad, seen));
    store.savedEntries = store.entries.length;
    return store;
  }

  /** Writes the known-bad rows added and the seen keys recorded since open. */
  override async save(): Promise<void> {
    const added = this.entries.slice(this.savedEntries);
    await this.withRedis(async (redis) => {
      const batch = redis.pipeline();
      for (const entry of added) batch.hsetnx(`${this.key}:bad`, entry.withLabel, formatRecord({ entry }));
      for (const dataset of this.recorded) batch.hset(`${this.key}:seen`, dataset, formatRecord({ seen: this.seen.get(dataset)! }));
      for (const [error] of (await batch.exec()) ?? []) if (error) throw error;
    });
    this.savedEntries += added.length;
  }

  private parse(bad: Record<string, string>, seen: Record<string, string>): StoreState {
    const state: StoreState = { entries: [], seen: [] };
    for (const [hash, fields] of [['bad', bad], ['seen', seen]] as const) {
      for (const [field, text] of Object.entries(fields)) {
        addRecordText(state, text, (problem) => {
          throw new InputError(`${hash} record '${field}': ${problem}`, { subject: `${REDIS_MEMORY_SCHEME}${this.name}` });
        });
      }
    }
    return state;
  }

  /** A connection for one exchange: a scan holds none between opening and saving the store. */
  private async withRedis<T>(use: (redis: Redis) => Promise<T>): Promise<T> {
    // Loaded here: scans without a Redis store (most) need not load a Redis client.
    const { Redis } = await import('ioredis');
    const redis = new Redis({
      ...redisOptionsFromUrl(this.redisUrl),
      maxRetriesPerRequest: 1,
      retryStrategy: (attempt: number) => (attempt > 3 ? null : 200 * attempt),
      lazyConnect: true,
      connectionName: 'datawarden-replay-memory',
    });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      return await use(redis);
    } catch (error) {
      if (error instanceof InputError) throw error;
      // Not bad input: Redis may be back soon, and a queue job retries what this causes.
      throw new Error(`${REDIS_MEMORY_SCHEME}${this.name}: Redis at ${redactedUrl(this.redisUrl)}: ${(error as Error).message}`, { cause: error });
    } finally {
      redis.disconnect();
    }
  }
}
