// Score histograms for reports: counts in equal bins over [0, 1], which add across batches and
// workers.
export const HISTOGRAM_BINS = 20;

/** Adds scores in [0, 1] to the bins; negative or NaN scores (no score) are skipped. */
export function addToHistogram(bins: Float64Array, scores: ArrayLike<number>): void {
  const n = bins.length;
  for (let i = 0; i < scores.length; i++) {
    const score = scores[i]!;
    if (!(score >= 0)) continue;
    bins[Math.min(n - 1, Math.floor(score * n))]!++;
  }
}

/** The summed histogram as { edges, counts } for report.json. */
export function histogramSummary(parts: readonly Float64Array[]): { edges: number[]; counts: number[] } {
  const counts = new Array<number>(HISTOGRAM_BINS).fill(0);
  for (const part of parts) part.forEach((count, b) => (counts[b] = counts[b]! + count));
  return { edges: Array.from({ length: HISTOGRAM_BINS + 1 }, (_, b) => b / HISTOGRAM_BINS), counts };
}
