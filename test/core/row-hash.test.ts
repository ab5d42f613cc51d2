import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashRows } from '../../src/core/row-hash.js';
import type { Column } from '../../src/core/types.js';

function floats(values: Float64Array): Column {
  return { name: 'x', type: 'float', sourceType: 'DOUBLE', values, valid: null, bad: null };
}

test('row hashes: equal numbers hash equally whatever their bits (-0 and 0, NaN payloads)', () => {
  const values = new Float64Array(6);
  const words = new Uint32Array(values.buffer);
  values[0] = Number.NaN;
  words[2] = 1; // a NaN with another payload (low word 1, high word the quiet NaN's)
  words[3] = 0x7ff80000;
  values[2] = -0;
  values[3] = 0;
  values[4] = 1;
  values[5] = Number.MIN_VALUE; // bits 0x00000000_00000001: not to be taken for 0
  assert.ok(Number.isNaN(values[1]!));
  const hi = new Uint32Array(6);
  const lo = new Uint32Array(6);
  hashRows([floats(values)], 6, hi, lo);
  const key = (i: number) => `${hi[i]}:${lo[i]}`;
  assert.equal(key(0), key(1));
  assert.equal(key(2), key(3));
  assert.equal(new Set([key(0), key(2), key(4), key(5)]).size, 4);
});

test('row hashes: a column reads its own rows when it is a view into a larger buffer', () => {
  const whole = Float64Array.from([7, 1, 2, 3]);
  const view = whole.subarray(1);
  const hi = new Uint32Array(3);
  const lo = new Uint32Array(3);
  hashRows([floats(view)], 3, hi, lo);
  const copyHi = new Uint32Array(3);
  const copyLo = new Uint32Array(3);
  hashRows([floats(Float64Array.from([1, 2, 3]))], 3, copyHi, copyLo);
  assert.deepEqual([...hi, ...lo], [...copyHi, ...copyLo]);
});
