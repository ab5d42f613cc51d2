// A set of 64-bit hashes with linear probing, each slot's two 32-bit halves side by side in one
// Uint32Array so a probe touches one cache line. Sized from the expected row count it holds
// 4/3 slots a row: 10.7 bytes a row, under the 16-byte budget.
const MAX_LOAD = 0.75;
/** Hashes whose slots addAll() reads ahead at once: enough misses in flight, all still cached when used. */
const TOUCH_BLOCK = 32;

export class HashSet64 {
  private slots: Uint32Array;
  private capacity: number;
  size = 0;
  /** Where addAll() leaves what it read ahead, so the reads are not optimised away. */
  private touched = 0;

  constructor(expected = 1024) {
    this.capacity = Math.max(16, Math.ceil(expected / MAX_LOAD) + 1);
    this.slots = new Uint32Array(this.capacity * 2);
  }

  /** Bytes held by the table. */
  get bytes(): number {
    return this.slots.byteLength;
  }

  /** Adds the hash; returns false when it was already present. An all-zero hash is stored as lo = 1. */
  add(hi: number, lo: number): boolean {
    if (hi === 0 && lo === 0) lo = 1;
    if (this.size + 1 > this.capacity * MAX_LOAD) this.grow();
    return this.insert(hi >>> 0, lo >>> 0);
  }

  /**
   * Adds hashes 0..count-1 of `hi`/`lo` in order; `added[i]` is 1 when hash i was new (a repeat
   * within the same call is not). Faster than add() a row at a time on a large table.
   */
  addAll(hi: Uint32Array, lo: Uint32Array, count: number, added: Uint8Array): void {
    for (let start = 0; start < count; start += TOUCH_BLOCK) {
      const end = Math.min(count, start + TOUCH_BLOCK);
      while (this.size + (end - start) > this.capacity * MAX_LOAD) this.grow();
      const slots = this.slots;
      // Each hash's first slot is read once before any insert: the reads do not depend on each
      // other, so a block's cache misses are fetched together rather than one after another.
      let touched = 0;
      for (let i = start; i < end; i++) touched ^= slots[this.slotOf(hi[i]!, lo[i]!) * 2]!;
      this.touched = touched;
      for (let i = start; i < end; i++) {
        const h = hi[i]!;
        let l = lo[i]!;
        if (h === 0 && l === 0) l = 1;
        added[i] = this.insert(h, l) ? 1 : 0;
      }
    }
  }

  has(hi: number, lo: number): boolean {
    if (hi === 0 && lo === 0) lo = 1;
    hi >>>= 0;
    lo >>>= 0;
    const slots = this.slots;
    let at = this.slotOf(hi, lo) * 2;
    for (;;) {
      const h = slots[at]!;
      const l = slots[at + 1]!;
      if (h === 0 && l === 0) return false;
      if (h === hi && l === lo) return true;
      at += 2;
      if (at === slots.length) at = 0;
    }
  }

  private slotOf(hi: number, lo: number): number {
    // Multiply-shift maps the hash onto any capacity, so it need not be a power of two.
    return Math.floor(((hi ^ Math.imul(lo, 0x9e3779b1)) >>> 0) * this.capacity / 4294967296);
  }

  private insert(hi: number, lo: number): boolean {
    const slots = this.slots;
    let at = this.slotOf(hi, lo) * 2;
    for (;;) {
      const h = slots[at]!;
      const l = slots[at + 1]!;
      if (h === 0 && l === 0) {
        slots[at] = hi;
        slots[at + 1] = lo;
        this.size++;
        return true;
      }
      if (h === hi && l === lo) return false;
      at += 2;
      if (at === slots.length) at = 0;
    }
  }

  private grow(): void {
    const old = this.slots;
    this.capacity = Math.ceil(this.capacity * 1.5);
    this.slots = new Uint32Array(this.capacity * 2);
    this.size = 0;
    for (let at = 0; at < old.length; at += 2) {
      if (old[at] !== 0 || old[at + 1] !== 0) this.insert(old[at]!, old[at + 1]!);
    }
  }
}
