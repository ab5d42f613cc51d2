import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HashSet64 } from '../../src/core/hash-set.js';

test('hash set: addAll marks first occurrences, repeats within one call included, and agrees with add()', () => {
  // [hi, lo] pairs: the zero hash, a repeat of it, pairs sharing one half, and exact repeats.
  const pairs = [[0, 0], [0, 0], [0, 1], [1, 0], [1, 0], [7, 9], [9, 7], [7, 9], [0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff]];
  const expected = [1, 0, 0, 1, 0, 1, 1, 0, 1, 0];
  // (0, 0) is stored as (0, 1), so a later (0, 1) counts as its repeat: hashes are never 0 in
  // practice (row hashes go through a finaliser), and the two can only meet by a 2^-64 chance.
  const hi = Uint32Array.from(pairs, (p) => p[0]!);
  const lo = Uint32Array.from(pairs, (p) => p[1]!);
  const added = new Uint8Array(pairs.length);
  const set = new HashSet64(4);
  set.addAll(hi, lo, pairs.length, added);
  assert.deepEqual([...added], expected);
  const one = new HashSet64(4);
  assert.deepEqual(pairs.map(([h, l]) => (one.add(h!, l!) ? 1 : 0)), expected);
  assert.equal(set.size, one.size);
});

test('hash set: addAll past the expected size grows the table and keeps every hash', () => {
  const count = 10_000;
  const hi = new Uint32Array(count);
  const lo = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    hi[i] = Math.imul(i, 0x9e3779b1) >>> 0;
    lo[i] = (i % 5000) + 1; // rows 5000.. repeat rows 0.. only when hi repeats too, which it does not
  }
  const set = new HashSet64(100);
  const added = new Uint8Array(count);
  set.addAll(hi, lo, count, added);
  assert.equal(set.size, count);
  assert.ok(added.every((a) => a === 1));
  set.addAll(hi, lo, count, added);
  assert.ok(added.every((a) => a === 0));
  for (let i = 0; i < count; i += 997) assert.ok(set.has(hi[i]!, lo[i]!));
  assert.equal(set.has(1, 0xdead), false);
});
