// Quality measures the benchmarks report.

/** Area under the ROC curve of `scores` (higher = more positive) against 0/1 `truth`; ties share ranks. */
export function rocAuc(scores: ArrayLike<number>, truth: ArrayLike<number>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const averageRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (truth[order[k]!] === 1) {
        positives++;
        rankSum += averageRank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export interface DetectionQuality {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly flagged: number;
  readonly truePositives: number;
}

/** Precision, recall and F1 of a flagged set against the true set (both as row index sets). */
export function detectionQuality(flagged: ReadonlySet<number>, truth: ReadonlySet<number>): DetectionQuality {
  let truePositives = 0;
  for (const row of flagged) if (truth.has(row)) truePositives++;
  const precision = flagged.size === 0 ? 0 : truePositives / flagged.size;
  const recall = truth.size === 0 ? 1 : truePositives / truth.size;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1, flagged: flagged.size, truePositives };
}

export function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
