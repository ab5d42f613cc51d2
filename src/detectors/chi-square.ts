// Pearson's chi-square test of homogeneity for two histograms over the same slots: could they be
// two samples of one distribution? Drift and class-balance findings ask it beside their effect
// size, so that a small scan's sampling noise does not warn: 150 rows against 250 trusted ones
// give a PSI of about 0.09 over ten bins by chance alone.
import { gammaln } from 'simple-statistics';

export interface ChiSquareTest {
  readonly statistic: number;
  /** Slots holding a row on either side, minus one. */
  readonly df: number;
  /** The chance of a statistic at least this large if both histograms came from one distribution. */
  readonly pValue: number;
}

export function chiSquareHomogeneity(a: ArrayLike<number>, b: ArrayLike<number>): ChiSquareTest {
  let aTotal = 0;
  let bTotal = 0;
  for (let i = 0; i < a.length; i++) {
    aTotal += a[i]!;
    bTotal += b[i]!;
  }
  if (aTotal === 0 || bTotal === 0) return { statistic: 0, df: 0, pValue: 1 };
  const total = aTotal + bTotal;
  let statistic = 0;
  let slots = 0;
  for (let i = 0; i < a.length; i++) {
    const both = a[i]! + b[i]!;
    if (both === 0) continue;
    slots++;
    const expectedA = (both * aTotal) / total;
    const expectedB = (both * bTotal) / total;
    statistic += (a[i]! - expectedA) ** 2 / expectedA + (b[i]! - expectedB) ** 2 / expectedB;
  }
  const df = slots - 1;
  return { statistic, df, pValue: df > 0 ? chiSquareSurvival(statistic, df) : 1 };
}

/** P(X >= x) for X chi-square distributed with df degrees of freedom. */
export function chiSquareSurvival(x: number, df: number): number {
  if (!(x > 0)) return 1;
  return upperIncompleteGamma(df / 2, x / 2);
}

/**
 * The regularised upper incomplete gamma function Q(a, x): a series for 1 - Q below x = a + 1,
 * a continued fraction (modified Lentz) above it, where each converges fast.
 */
function upperIncompleteGamma(a: number, x: number): number {
  const prefix = Math.exp(a * Math.log(x) - x - gammaln(a));
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 10_000 && Math.abs(term) > Math.abs(sum) * 1e-16; n++) {
      term *= x / (a + n);
      sum += term;
    }
    return Math.min(1, Math.max(0, 1 - sum * prefix));
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.min(1, Math.max(0, prefix * h));
}
