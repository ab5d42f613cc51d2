// A hash table from 64-bit keys to small integers over one typed array: 12 bytes a slot (high
// word, low word, value side by side, so a probe touches one cache line), no object per entry,
// so tens of millions of row fingerprints fit in memory. Keys are prefixes of sha256 digests,
// already uniform, so the low word picks the slot directly. Linear probing.

const EMPTY = 0;
const WORDS = 3;

export class FingerprintTable {
  private slots: Uint32Array;
  private mask: number;
  private count = 0;

  constructor(expected = 1024) {
    let capacity = 16;
    while (capacity * 0.7 < expected) capacity *= 2;
    this.slots = new Uint32Array(capacity * WORDS);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.count;
  }

  /** The value stored for the key, or 0. */
  get(hi: number, lo: number): number {
    const slots = this.slots;
    const mask = this.mask;
    hi >>>= 0;
    lo >>>= 0;
    for (let slot = lo & mask; ; slot = (slot + 1) & mask) {
      const at = slot * WORDS;
      const value = slots[at + 2]!;
      if (value === EMPTY) return 0;
      if (slots[at + 1] === lo && slots[at] === hi) return value;
    }
  }

  /** Stores the value (1 or more; 0 marks an empty slot) unless the key is present; returns the value now stored. */
  setIfAbsent(hi: number, lo: number, value: number): number {
    if (value < 1) throw new RangeError('table values must be 1 or more');
    if (this.count + 1 > (this.mask + 1) * 0.7) this.grow();
    const slots = this.slots;
    const mask = this.mask;
    hi >>>= 0;
    lo >>>= 0;
    for (let slot = lo & mask; ; slot = (slot + 1) & mask) {
      const at = slot * WORDS;
      const existing = slots[at + 2]!;
      if (existing === EMPTY) {
        slots[at] = hi;
        slots[at + 1] = lo;
        slots[at + 2] = value;
        this.count++;
        return value;
      }
      if (slots[at + 1] === lo && slots[at] === hi) return existing;
    }
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Uint32Array(old.length * 2);
    this.mask = (this.mask + 1) * 2 - 1;
    this.count = 0;
    for (let at = 0; at < old.length; at += WORDS) if (old[at + 2] !== EMPTY) this.setIfAbsent(old[at]!, old[at + 1]!, old[at + 2]!);
  }
}
