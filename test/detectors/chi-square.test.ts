import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chiSquareHomogeneity, chiSquareSurvival } from '../../src/detectors/chi-square.js';

test('chi-square survival function, against scipy.stats.chi2.sf', () => {
  const cases: [x: number, df: number, p: number][] = [
    [3.841458820694124, 1, 0.05],
    [6.634896601021214, 1, 0.01],
    [21.665994333461924, 9, 0.01],
    [16.918977604620448, 9, 0.05],
    [4, 2, Math.exp(-2)],
    [0.5, 3, 0.9188914116546758],
    [1e-3, 1, 0.9747728793699604],
    [100, 9, 1.5735176303753876e-17],
    [300, 50, 2.3141364165140704e-37],
    [0, 4, 1],
  ];
  for (const [x, df, p] of cases) {
    const got = chiSquareSurvival(x, df);
    assert.ok(Math.abs(got - p) <= 1e-12 * Math.max(1, 1 / p) * p + 1e-15, `x ${x} df ${df}: ${got} vs ${p}`);
  }
});

test('chi-square test of homogeneity: same shares give p 1, slots empty on both sides do not count', () => {
  assert.deepEqual(chiSquareHomogeneity([10, 20, 30], [10, 20, 30]), { statistic: 0, df: 2, pValue: 1 });
  // scipy.stats.chi2_contingency([[10, 20], [30, 5]], correction=False)
  const test2x2 = chiSquareHomogeneity([10, 30, 0], [20, 5, 0]);
  assert.equal(test2x2.df, 1);
  assert.ok(Math.abs(test2x2.statistic - 18.726190476190474) < 1e-9);
  assert.ok(Math.abs(test2x2.pValue - 1.5089565704354248e-5) < 1e-15);
  assert.deepEqual(chiSquareHomogeneity([0, 0], [3, 4]), { statistic: 0, df: 0, pValue: 1 });
});
