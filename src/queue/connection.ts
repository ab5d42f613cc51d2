// ioredis connections for BullMQ. Producers fail fast when Redis is away (an enqueue should
// report the error, not hang); workers wait for Redis forever, which BullMQ requires of their
// blocking connections (maxRetriesPerRequest: null).
import { Redis } from 'ioredis';
import { redisOptionsFromUrl, type ConnectionSettings } from './settings.js';

export type ConnectionRole = 'producer' | 'worker';

export function createRedis(settings: ConnectionSettings, role: ConnectionRole): Redis {
  const options = redisOptionsFromUrl(settings.redisUrl);
  const redis = new Redis({
    ...options,
    ...(role === 'worker'
      ? { maxRetriesPerRequest: null }
      : {
          maxRetriesPerRequest: 1,
          // Give up after a few quick reconnects instead of queueing commands forever.
          retryStrategy: (attempt: number) => (attempt > 3 ? null : 200 * attempt),
        }),
    connectionName: `datawarden-${role}`,
  });
  // Failed commands reject with the error; without a listener ioredis would also print every
  // reconnect attempt. Callers that want to log connection trouble add their own listener.
  redis.on('error', () => undefined);
  return redis;
}
