import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Random, ReservoirSampler, identityPermutation, normaliseSeed, sampleWithoutReplacement } from '../../src/core/random.js';

function draws(seed: number, count: number): number[] {
  const random = new Random(seed);
  return Array.from({ length: count }, () => random.nextUint32());
}

test('the same seed gives the same sequence, another seed another one', () => {
  assert.deepEqual(draws(42, 50), draws(42, 50));
  assert.notDeepEqual(draws(42, 50), draws(43, 50));
  // Seeds beyond 32 bits and fractional seeds stay distinct.
  assert.notDeepEqual(draws(2 ** 32, 5), draws(0, 5));
  assert.notDeepEqual(draws(0.5, 5), draws(0, 5));
});

test('normaliseSeed rejects non-finite seeds', () => {
  for (const bad of [NaN, Infinity, -Infinity]) assert.throws(() => normaliseSeed(bad), TypeError);
});

test('nextFloat stays in [0, 1) and nextInt in [0, n)', () => {
  const random = new Random(7);
  for (let i = 0; i < 10_000; i++) {
    const x = random.nextFloat();
    assert.ok(x >= 0 && x < 1);
  }
  for (const n of [1, 2, 3, 10, 1000, 2 ** 31 + 11, 2 ** 32]) {
    for (let i = 0; i < 200; i++) {
      const k = random.nextInt(n);
      assert.ok(Number.isInteger(k) && k >= 0 && k < n, `nextInt(${n}) gave ${k}`);
    }
  }
});

test('nextInt is close to uniform (chi-square over 10 cells, 100k draws)', () => {
  const random = new Random(2024);
  const counts = new Array<number>(10).fill(0);
  const draws = 100_000;
  for (let i = 0; i < draws; i++) counts[random.nextInt(10)]!++;
  const expected = draws / 10;
  const chiSquare = counts.reduce((sum, c) => sum + ((c - expected) ** 2) / expected, 0);
  // 9 degrees of freedom: P(chi2 > 27.9) = 0.001.
  assert.ok(chiSquare < 27.9, `chi-square ${chiSquare}`);
});

test('nextInt rejects bounds that are not integers in [1, 2^32]', () => {
  const random = new Random(1);
  for (const bad of [0, -1, 1.5, 2 ** 32 + 1, NaN]) assert.throws(() => random.nextInt(bad), RangeError);
});

test('shuffle is a seeded permutation', () => {
  const a = new Random(5).shuffle(Array.from({ length: 100 }, (_, i) => i));
  const b = new Random(5).shuffle(Array.from({ length: 100 }, (_, i) => i));
  assert.deepEqual(a, b);
  assert.deepEqual([...a].sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => i));
  assert.notDeepEqual(a, Array.from({ length: 100 }, (_, i) => i));
  const typed = new Random(5).shuffle(identityPermutation(100));
  assert.deepEqual([...typed], a);
});

test('sampleWithoutReplacement draws distinct indices and leaves the pool a permutation', () => {
  const pool = identityPermutation(1000);
  const random = new Random(9);
  for (let round = 0; round < 20; round++) {
    const sample = sampleWithoutReplacement(pool, 256, random);
    assert.equal(new Set(sample).size, 256);
    for (const i of sample) assert.ok(i >= 0 && i < 1000);
  }
  assert.deepEqual([...pool].sort((a, b) => a - b), [...identityPermutation(1000)]);
  assert.throws(() => sampleWithoutReplacement(identityPermutation(3), 4, random), RangeError);
});

test('every index is about equally likely to be drawn', () => {
  const pool = identityPermutation(20);
  const random = new Random(3);
  const hits = new Array<number>(20).fill(0);
  for (let round = 0; round < 20_000; round++) for (const i of sampleWithoutReplacement(pool, 5, random)) hits[i]!++;
  // Expected 5000 each; a binomial standard deviation is about 61.
  for (const h of hits) assert.ok(Math.abs(h - 5000) < 350, `hits ${h}`);
});

test('the reservoir keeps everything below capacity and a seeded sample above it', () => {
  const small = new ReservoirSampler(10, 1);
  small.offerRange(100, 4);
  assert.deepEqual([...small.sample()], [100, 101, 102, 103]);
  const sample = (seed: number) => {
    const reservoir = new ReservoirSampler(50, seed);
    reservoir.offerRange(0, 10_000);
    return [...reservoir.sample()];
  };
  const a = sample(11);
  assert.equal(a.length, 50);
  assert.equal(new Set(a).size, 50);
  assert.deepEqual(a, [...a].sort((x, y) => x - y));
  assert.deepEqual(a, sample(11));
  assert.notDeepEqual(a, sample(12));
  // A uniform sample of 0..9999 has a mean near 5000 (standard error about 408).
  const average = a.reduce((s, v) => s + v, 0) / a.length;
  assert.ok(Math.abs(average - 5000) < 1600, `mean ${average}`);
});
