// A small seeded generator (xoshiro128**, seeded through splitmix32) so that every randomised
// step (subsamples, folds, splits, shuffles) is reproducible: same input + same seed = same output.
// Math.random cannot be seeded, so nothing in datawarden uses it.

/** Mixes a 32-bit seed into well-spread state words (splitmix32). */
function splitmix32(state: { value: number }): number {
  state.value = (state.value + 0x9e3779b9) | 0;
  let z = state.value;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Turns any finite number (including non-integers and values above 2^32) into a 32-bit seed. */
export function normaliseSeed(seed: number): number {
  if (!Number.isFinite(seed)) throw new TypeError(`seed must be a finite number, got ${seed}`);
  const high = Math.floor(seed / 4294967296);
  const low = seed - high * 4294967296;
  // Fold the high word and any fraction in, so distinct seeds stay distinct in practice.
  const fraction = Math.floor((low % 1) * 4294967296);
  return (Math.floor(low) ^ Math.imul(high | 0, 0x9e3779b1) ^ Math.imul(fraction | 0, 0x85ebca77)) >>> 0;
}

export class Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    const state = { value: normaliseSeed(seed) };
    this.s0 = splitmix32(state);
    this.s1 = splitmix32(state);
    this.s2 = splitmix32(state);
    this.s3 = splitmix32(state);
    // The all-zero state is a fixed point of xoshiro; splitmix32 makes it practically impossible.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** The next unsigned 32-bit integer (xoshiro128**). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A float in [0, 1) with 32 bits of randomness. */
  nextFloat(): number {
    return this.nextUint32() / 4294967296;
  }

  /** An integer in [0, n), without modulo bias (draws above the last whole multiple of n are redrawn). */
  nextInt(n: number): number {
    if (!(n >= 1 && n <= 4294967296) || !Number.isInteger(n)) {
      throw new RangeError(`nextInt needs an integer bound in [1, 2^32], got ${n}`);
    }
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** Shuffles in place (Fisher-Yates) and returns the same array. */
  shuffle<T extends { length: number; [index: number]: unknown }>(array: T): T {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  }

  /** An independent generator derived from this one (for per-tree or per-fold streams). */
  fork(): Random {
    return new Random(this.nextUint32() * 4294967296 + this.nextUint32());
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** 0, 1, ..., n-1 as an Int32Array. */
export function identityPermutation(n: number): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return order;
}

/**
 * Draws k distinct indices from `pool` by a partial Fisher-Yates shuffle of its first k slots.
 * `pool` must hold a permutation of the candidate indices; it stays one, so it can be reused for
 * the next draw without being reset (each draw is still a uniform k-subset).
 */
export function sampleWithoutReplacement(pool: Int32Array, k: number, random: Random): Int32Array {
  const n = pool.length;
  if (k > n) throw new RangeError(`cannot draw ${k} of ${n} without replacement`);
  for (let i = 0; i < k; i++) {
    const j = i + random.nextInt(n - i);
    const tmp = pool[i]!;
    pool[i] = pool[j]!;
    pool[j] = tmp;
  }
  return pool.slice(0, k);
}

/**
 * A seeded reservoir sample of row indices (Algorithm R) over a stream of unknown length:
 * offer rows one by one (or by count), read the sorted sample at the end.
 */
export class ReservoirSampler {
  private readonly slots: Float64Array;
  private filled = 0;
  private seen = 0;
  private readonly random: Random;

  constructor(
    readonly capacity: number,
    seed: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.slots = new Float64Array(capacity);
    this.random = new Random(seed);
  }

  /** Offers the global row indices [start, start + count). */
  offerRange(start: number, count: number): void {
    for (let i = 0; i < count; i++) this.offer(start + i);
  }

  offer(index: number): void {
    this.seen++;
    if (this.filled < this.capacity) {
      this.slots[this.filled++] = index;
      return;
    }
    // Keep the new item with probability capacity / seen.
    const j = this.seen <= 4294967296 ? this.random.nextInt(this.seen) : Math.floor(this.random.nextFloat() * this.seen);
    if (j < this.capacity) this.slots[j] = index;
  }

  get offered(): number {
    return this.seen;
  }

  /** The sampled indices in ascending order. */
  sample(): Float64Array {
    return this.slots.slice(0, this.filled).sort();
  }
}
