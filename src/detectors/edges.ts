// Which bin a number falls in, for bins given by sorted edges: the count of edges at or below
// the value. A uniform grid over the edges' range narrows the search to the edges in the
// value's grid cell, most often none or one, compared without a branch; the answer is exactly
// the binary search's.

export class EdgeLookup {
  /** The edges, then two +Infinity, so the two edges after any cell start can be read. */
  private readonly padded: Float64Array;
  private readonly count: number;
  private readonly low: number;
  private readonly high: number;
  private readonly scale: number;
  private readonly last: number;
  /** first[c] = edges whose cell is below c; edges of cell c are [first[c], first[c + 1]). */
  private readonly first: Int32Array;

  /** `edges` ascending, none NaN. */
  constructor(edges: ArrayLike<number>) {
    const n = edges.length;
    this.count = n;
    this.padded = new Float64Array(n + 2).fill(Infinity);
    this.padded.set(Array.from(edges));
    const cells = Math.max(16, Math.min(1 << 16, 4 * n));
    this.last = cells - 1;
    this.low = n > 0 ? this.padded[0]! : Infinity;
    this.high = n > 0 ? this.padded[n - 1]! : -Infinity;
    const scale = cells / (this.high - this.low);
    // A span too small (or too large) for a finite scale puts every edge in cell 0: still exact.
    this.scale = Number.isFinite(scale) && scale > 0 ? scale : 0;
    this.first = new Int32Array(cells + 1);
    for (let i = 0; i < n; i++) this.first[this.cellOf(this.padded[i]!) + 1]!++;
    for (let c = 0; c < cells; c++) this.first[c + 1] = this.first[c + 1]! + this.first[c]!;
  }

  /**
   * The cell of x in [low, high], monotone in x: an edge in a lower cell is below x, one in a
   * higher cell is above it, so only the edges sharing x's cell need comparing. The product is
   * at most about `cells` (or NaN, from a zero scale), so `| 0` is a floor that cannot wrap.
   */
  private cellOf(x: number): number {
    const c = ((x - this.low) * this.scale) | 0;
    return c > this.last ? this.last : c;
  }

  /** The number of edges <= v (v not NaN). */
  countAtOrBelow(v: number): number {
    if (!(v >= this.low)) return 0;
    if (v >= this.high) return this.count;
    const c = this.cellOf(v);
    let lo = this.first[c]!;
    const hi = this.first[c + 1]!;
    const padded = this.padded;
    if (hi - lo <= 2) {
      // Without a branch: the cell's edge count is hard to predict, and a miss costs more.
      return lo + (((padded[lo]! <= v) as unknown as number) & ((lo < hi) as unknown as number)) + (((padded[lo + 1]! <= v) as unknown as number) & ((lo + 1 < hi) as unknown as number));
    }
    while (lo < hi && padded[lo]! <= v) lo++;
    return lo;
  }
}
