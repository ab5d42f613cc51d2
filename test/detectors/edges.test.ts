import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Random } from '../../src/core/random.js';
import { EdgeLookup } from '../../src/detectors/edges.js';

/** The plain answer: a binary search for the number of edges <= v. */
function upperBound(edges: readonly number[], v: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (edges[mid]! <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

test('edge lookup: the same count as a binary search, on edges of every shape', () => {
  const random = new Random(7);
  const shapes: number[][] = [
    [],
    [3],
    [0, 1],
    [-5, -1e-300, 0, 1e-300, 5],
    // Crowded: most edges in one grid cell, a few far out.
    [...Array.from({ length: 200 }, (_, i) => 1 + i * 1e-9), 1e6, 1e9],
    // Skewed quantile edges, as a heavy-tailed column gives.
    Array.from({ length: 499 }, (_, i) => Math.exp(i / 20)),
    // A span too small for a finite grid scale.
    [5e-324, 1e-323],
    [-Number.MAX_VALUE, 0, Number.MAX_VALUE],
  ];
  for (const edges of shapes) {
    const lookup = new EdgeLookup(edges);
    const probes = [...edges, ...edges.map((e) => e * (1 + 1e-15)), ...edges.map((e) => e - Math.abs(e) * 1e-15), -Infinity, Infinity, 0, -0];
    const lo = edges[0] ?? 0;
    const hi = edges[edges.length - 1] ?? 1;
    for (let i = 0; i < 2000; i++) probes.push(lo - 1 + (hi - lo + 2) * random.nextFloat());
    for (const v of probes.filter((p) => !Number.isNaN(p))) assert.equal(lookup.countAtOrBelow(v), upperBound(edges, v), `edges of ${edges.length}, v = ${v}`);
  }
});
