// The replay memory kept in Redis: what one scan saves, the next opens; two scans saving at once
// lose nothing; a bad record or name is an error naming the store.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { RedisReplayStore } from '../../src/provenance/redis-replay-store.js';
import { isRedisMemory } from '../../src/provenance/replay-memory.js';
import { removeKeys, requireRedis, uniquePrefix, REDIS_URL } from '../queue/helpers.js';

const prefix = uniquePrefix('replay-store');
const options = { redisUrl: REDIS_URL, prefix };
const hex = (n: number, fill: string) => n.toString(16).padStart(8, '0') + fill.repeat(24);
const row = (n: number) => ({ features: hex(n, 'a'), withLabel: hex(n, 'b') });
const wordsOf = (fingerprint: string): [number, number] => [Number.parseInt(fingerprint.slice(0, 8), 16), Number.parseInt(fingerprint.slice(8, 16), 16)];

before(requireRedis);
after(() => removeKeys(prefix));

test('--memory values: redis:<name> is a store in Redis; anything else, redis:// included, a file', () => {
  const cases: [string, boolean][] = [['redis:credit', true], ['redis:a.b-c_d', true], ['runs/replay.jsonl', false], ['redis://host:6379', false], ['./redis:credit', false]];
  for (const [spec, redis] of cases) assert.equal(isRedisMemory(spec), redis, spec);
});

test('what one store saves, the next one opens: known-bad rows and seen datasets', async () => {
  const first = await RedisReplayStore.open('round-trip', options);
  assert.equal(first.knownBadCount, 0);
  assert.equal(first.add([row(1), row(2)], { reason: 'outlier', dataset: 'week1' }), 2);
  first.recordSeen('week1', Uint8Array.from([0, 0, 0, 7, 0, 0, 0, 9]));
  await first.save();
  const second = await RedisReplayStore.open('round-trip', options);
  assert.equal(second.knownBadCount, 2);
  assert.ok(second.mayBeBad(...wordsOf(row(1).features)));
  assert.deepEqual(second.knownBad(row(2).features).map((e) => [e.reason, e.dataset]), [['outlier', 'week1']]);
  assert.equal(second.has(row(3).features), false);
  assert.equal(second.seenIn(7, 9, 'week2'), 'week1');
  assert.equal(second.seenIn(7, 9, 'week1'), undefined, 'a dataset is not a replay of itself');
});

test('two stores saving at once: known-bad rows are the union, the first confirmation of a row is kept', async () => {
  const a = await RedisReplayStore.open('concurrent', options);
  const b = await RedisReplayStore.open('concurrent', options);
  a.add([row(10), row(11)], { reason: 'label_flip', dataset: 'a' });
  b.add([row(11), row(12)], { reason: 'outlier', dataset: 'b' });
  a.recordSeen('a', new Uint8Array(8));
  b.recordSeen('b', new Uint8Array(16));
  await a.save();
  await b.save();
  const merged = await RedisReplayStore.open('concurrent', options);
  assert.equal(merged.knownBadCount, 3);
  assert.deepEqual(merged.knownBad(row(11).features).map((e) => e.reason), ['label_flip']);
  assert.deepEqual([...merged.seenDatasets].sort(), ['a', 'b']);
});

test('bad stored records and bad names are errors naming the store and the record', async () => {
  const redis = new Redis(REDIS_URL);
  try {
    await redis.hset(`${prefix}:replay:broken:bad`, 'x', '{"kind":"bad","features":"nothex","withLabel":"nothex","reason":"r"}');
    await redis.hset(`${prefix}:replay:garbled:seen`, 'week1', 'not json');
  } finally {
    redis.disconnect();
  }
  await assert.rejects(RedisReplayStore.open('broken', options), /^InputError: redis:broken: bad record 'x': features and withLabel must be 32 lowercase hex characters$/m);
  await assert.rejects(RedisReplayStore.open('garbled', options), /redis:garbled: seen record 'week1': not JSON/);
  await assert.rejects(RedisReplayStore.open('has space', options), /redis:has space: a Redis replay memory name is/);
});
