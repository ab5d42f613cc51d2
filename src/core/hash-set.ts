// A set of 64-bit hashes kept as two Uint32Array halves with linear probing. Sized from the
// expected row count it holds 4/3 slots a row: 10.7 bytes a row, under the 16-byte budget.
const MAX_LOAD = 0.75;

export class HashSet64 {
  private hi: Uint32Array;
  private lo: Uint32Array;
  private capacity: number;
  size = 0;

  constructor(expected = 1024) {
    this.capacity = Math.max(16, Math.ceil(expected / MAX_LOAD) + 1);
    this.hi = new Uint32Array(this.capacity);
    this.lo = new Uint32Array(this.capacity);
  }

  /** Bytes held by the table. */
  get bytes(): number {
    return this.hi.byteLength + this.lo.byteLength;
  }

  /** Adds the hash; returns false when it was already present. An all-zero hash is stored as lo = 1. */
  add(hi: number, lo: number): boolean {
    if (hi === 0 && lo === 0) lo = 1;
    if (this.size + 1 > this.capacity * MAX_LOAD) this.grow();
    return this.insert(hi >>> 0, lo >>> 0);
  }

  has(hi: number, lo: number): boolean {
    if (hi === 0 && lo === 0) lo = 1;
    hi >>>= 0;
    lo >>>= 0;
    let slot = this.slotOf(hi, lo);
    for (;;) {
      const h = this.hi[slot]!;
      const l = this.lo[slot]!;
      if (h === 0 && l === 0) return false;
      if (h === hi && l === lo) return true;
      slot = slot + 1 === this.capacity ? 0 : slot + 1;
    }
  }

  private slotOf(hi: number, lo: number): number {
    // Multiply-shift maps the hash onto any capacity, so it need not be a power of two.
    return Math.floor(((hi ^ Math.imul(lo, 0x9e3779b1)) >>> 0) * this.capacity / 4294967296);
  }

  private insert(hi: number, lo: number): boolean {
    let slot = this.slotOf(hi, lo);
    for (;;) {
      const h = this.hi[slot]!;
      const l = this.lo[slot]!;
      if (h === 0 && l === 0) {
        this.hi[slot] = hi;
        this.lo[slot] = lo;
        this.size++;
        return true;
      }
      if (h === hi && l === lo) return false;
      slot = slot + 1 === this.capacity ? 0 : slot + 1;
    }
  }

  private grow(): void {
    const oldHi = this.hi;
    const oldLo = this.lo;
    this.capacity = Math.ceil(this.capacity * 1.5);
    this.hi = new Uint32Array(this.capacity);
    this.lo = new Uint32Array(this.capacity);
    this.size = 0;
    for (let i = 0; i < oldHi.length; i++) {
      if (oldHi[i] !== 0 || oldLo[i] !== 0) this.insert(oldHi[i]!, oldLo[i]!);
    }
  }
}
