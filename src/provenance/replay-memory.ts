// Where `--memory` keeps the replay memory: a file (the default), or Redis for `redis:<name>`.
import { RedisReplayStore, REDIS_MEMORY_SCHEME } from './redis-replay-store.js';
import { FileReplayStore, type ReplayStore } from './replay-store.js';

/** Whether a `--memory` value names a store in Redis (`redis:<name>`) rather than a file. */
export function isRedisMemory(spec: string): boolean {
  return spec.startsWith(REDIS_MEMORY_SCHEME) && !spec.startsWith(`${REDIS_MEMORY_SCHEME}//`);
}

/** Opens the replay memory a `--memory` value names. */
export async function openReplayStore(spec: string): Promise<ReplayStore> {
  return isRedisMemory(spec) ? RedisReplayStore.open(spec.slice(REDIS_MEMORY_SCHEME.length)) : FileReplayStore.open(spec);
}
