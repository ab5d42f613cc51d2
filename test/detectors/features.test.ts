import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../../src/core/errors.js';
import { encodeFeatures, featureNames, fitFeatureEncoder, matrixFromRows, sliceRows, takeRows, cellKey } from '../../src/detectors/features.js';
import type { NumericColumn } from '../../src/core/types.js';
import { batch, bools, numeric, strings } from './helpers.js';

function assertClose(actual: number[], expected: number[]): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]!) < 1e-12, `[${i}] ${a} vs ${expected[i]}`));
}

function column(matrix: { rows: number; data: Float64Array; names: readonly string[] }, name: string): number[] {
  const c = matrix.names.indexOf(name);
  assert.ok(c >= 0, `no feature ${name} in ${matrix.names.join(', ')}`);
  return [...matrix.data.subarray(c * matrix.rows, (c + 1) * matrix.rows)];
}

const trusted = batch([
  numeric('age', [20, 30, null, 50, 40]),
  strings('city', ['a', 'b', 'a', 'a', null]),
  bools('member', [true, false, true, true, false]),
  numeric('constant', [7, 7, 7, 7, 7]),
  numeric('empty', [null, null, null, null, null]),
  strings('one', ['x', 'x', 'x', 'x', 'x']),
]);

test('drops constant and all-null columns with a reason', () => {
  const encoder = fitFeatureEncoder(trusted.columns, { minCategoryRows: 1 });
  assert.deepEqual(
    encoder.dropped.map((d) => [d.column, d.reason]),
    [
      ['constant', 'constant'],
      ['empty', 'all-null'],
      ['one', 'constant'],
    ],
  );
  assert.deepEqual(encoder.features.map((f) => [f.column, f.kind]), [
    ['age', 'numeric'],
    ['city', 'categorical'],
    ['member', 'numeric'],
  ]);
  for (const d of encoder.dropped) assert.match(d.message, new RegExp(d.column));
});

test('raw encoding: numbers as they are, nulls as the median, categories as baseline frequencies', () => {
  const encoder = fitFeatureEncoder(trusted.columns, { minCategoryRows: 1 });
  const m = encodeFeatures(encoder, trusted, 'raw');
  assert.deepEqual(m.names, ['age', 'age:missing', 'city', 'member']);
  assert.deepEqual(column(m, 'age'), [20, 30, 35, 50, 40]);
  assert.deepEqual(column(m, 'age:missing'), [0, 0, 1, 0, 0]);
  assert.deepEqual(column(m, 'city'), [0.6, 0.2, 0.6, 0.6, 0.2]);
  assert.deepEqual(column(m, 'member'), [1, 0, 1, 1, 0]);
});

test('standardised encoding: z-scores, nulls at the mean, one-hot categories', () => {
  const encoder = fitFeatureEncoder(trusted.columns, { minCategoryRows: 1 });
  const m = encodeFeatures(encoder, trusted, 'standardised');
  assert.deepEqual(m.names, ['age', 'age:missing', 'city=a', 'city=b', 'city:missing', 'member']);
  const sd = Math.sqrt(((20 - 35) ** 2 + (30 - 35) ** 2 + (50 - 35) ** 2 + (40 - 35) ** 2) / 4);
  assertClose(column(m, 'age'), [(20 - 35) / sd, (30 - 35) / sd, 0, (50 - 35) / sd, (40 - 35) / sd]);
  assert.deepEqual(column(m, 'city=a'), [1, 0, 1, 1, 0]);
  assert.deepEqual(column(m, 'city=b'), [0, 1, 0, 0, 0]);
  assert.deepEqual(column(m, 'city:missing'), [0, 0, 0, 0, 1]);
  const memberSd = Math.sqrt(0.24);
  assertClose(column(m, 'member'), [0.4 / memberSd, -0.6 / memberSd, 0.4 / memberSd, 0.4 / memberSd, -0.6 / memberSd]);
});

test('new batches: unseen categories, nulls where the baseline had none, no NaN', () => {
  const encoder = fitFeatureEncoder(trusted.columns, { minCategoryRows: 1 });
  const scan = batch([
    numeric('age', [null, 1e9, Infinity]),
    strings('city', ['zzz', null, 'b']),
    bools('member', [null, true, false]),
  ]);
  for (const mode of ['raw', 'standardised'] as const) {
    const m = encodeFeatures(encoder, scan, mode);
    assert.equal(m.data.length, m.rows * m.cols);
    for (const v of m.data) assert.ok(Number.isFinite(v), `${mode}: ${v}`);
  }
  const raw = encodeFeatures(encoder, scan, 'raw');
  assert.deepEqual(column(raw, 'city'), [0, 0.2, 0.2]);
  assert.deepEqual(column(raw, 'age'), [35, 1e9, 35]);
  // member had no nulls in the baseline: a null takes the median, without an indicator.
  assert.deepEqual(column(raw, 'member'), [1, 1, 0]);
});

test('numeric encoding, whether a batch has a validity mask, gaps in it or values that are not finite', () => {
  // age was fitted with a null (median 35, an indicator); a mask's gaps may hold stale numbers.
  const encoder = fitFeatureEncoder(trusted.columns, { minCategoryRows: 1 });
  const age = (values: number[], valid: number[] | null): NumericColumn =>
    ({ name: 'age', type: 'float', sourceType: 'test', values: Float64Array.from(values), valid: valid && Uint8Array.from(valid), bad: null });
  const cases: { name: string; column: NumericColumn; raw: number[]; missing: number[] }[] = [
    { name: 'no mask, all finite', column: age([20, 60, 35], null), raw: [20, 60, 35], missing: [0, 0, 0] },
    { name: 'a mask with every row set', column: age([20, 60, 35], [1, 1, 1]), raw: [20, 60, 35], missing: [0, 0, 0] },
    { name: 'a mask with gaps over stale values', column: age([20, 99, 35, 98], [1, 0, 1, 0]), raw: [20, 35, 35, 35], missing: [0, 1, 0, 1] },
    { name: 'no mask, NaN and infinities', column: age([NaN, 20, -Infinity, Infinity], null), raw: [35, 20, 35, 35], missing: [1, 0, 1, 1] },
  ];
  for (const { name, column: ageColumn, raw, missing } of cases) {
    const rows = raw.length;
    const scan = batch([ageColumn, strings('city', Array(rows).fill('a')), bools('member', Array(rows).fill(true))]);
    const m = encodeFeatures(encoder, scan, 'raw');
    assert.deepEqual(column(m, 'age'), raw, name);
    assert.deepEqual(column(m, 'age:missing'), missing, name);
    const z = column(encodeFeatures(encoder, scan, 'standardised'), 'age');
    assert.deepEqual(z.map((v, r) => missing[r] === 1 && v === 0), missing.map((flag) => flag === 1), `${name}: missing rows at the mean`);
  }
});

test('a string column that is mostly distinct values is dropped as high-cardinality', () => {
  const names = Array.from({ length: 200 }, (_, i) => `name-${i % 150}`);
  const encoder = fitFeatureEncoder([strings('name', names), numeric('x', names.map((_, i) => i))]);
  assert.deepEqual(encoder.dropped.map((d) => d.reason), ['high-cardinality']);
  assert.match(encoder.dropped[0]!.message, /150 distinct values in 200 rows/);
});

test('one-hot keeps frequent categories only and drops one redundant column', () => {
  const values = [...Array(10).fill('a'), ...Array(6).fill('b'), ...Array(5).fill('c')] as string[];
  const withRare = [...values, 'd', 'd'];
  assert.deepEqual(featureNames(fitFeatureEncoder([strings('k', values)]), 'standardised'), ['k=a', 'k=b']);
  assert.deepEqual(featureNames(fitFeatureEncoder([strings('k', withRare)]), 'standardised'), ['k=a', 'k=b', 'k=c']);
  assert.deepEqual(featureNames(fitFeatureEncoder([strings('k', withRare)], { maxOneHot: 1 }), 'standardised'), ['k=a']);
});

test('the encoder survives a JSON round trip and encodes identically', () => {
  const encoder = fitFeatureEncoder(trusted.columns, { minCategoryRows: 1 });
  const copy = JSON.parse(JSON.stringify(encoder));
  for (const mode of ['raw', 'standardised'] as const) {
    assert.deepEqual(encodeFeatures(copy, trusted, mode), encodeFeatures(encoder, trusted, mode));
  }
});

test('a batch without a fitted column, or with strings where numbers were fitted, is an input error', () => {
  const encoder = fitFeatureEncoder(trusted.columns, { minCategoryRows: 1 });
  const missing = batch([numeric('age', [1]), bools('member', [true])]);
  assert.throws(() => encodeFeatures(encoder, missing, 'raw'), (e: unknown) => e instanceof InputError && /city/.test(e.message));
  const wrongType = batch([strings('age', ['1']), strings('city', ['a']), bools('member', [true])]);
  assert.throws(() => encodeFeatures(encoder, wrongType, 'raw'), InputError);
});

test('fit reports a requested column that is absent', () => {
  const encoder = fitFeatureEncoder(trusted.columns, { columns: ['age', 'nope'] });
  assert.deepEqual(encoder.dropped.map((d) => [d.column, d.reason]), [['nope', 'missing']]);
});

test('cellKey renders every type as a category key', () => {
  const b = batch([numeric('n', [1.5, null]), strings('s', ['x', null]), bools('b', [true, false])]);
  assert.deepEqual([0, 1].map((r) => cellKey(b.columns[0]!, r)), ['1.5', null]);
  assert.deepEqual([0, 1].map((r) => cellKey(b.columns[1]!, r)), ['x', null]);
  assert.deepEqual([0, 1].map((r) => cellKey(b.columns[2]!, r)), ['true', 'false']);
});

test('matrix helpers: rows in, slices and selections out', () => {
  const m = matrixFromRows([
    [1, 2],
    [3, 4],
    [5, 6],
  ]);
  assert.deepEqual([...m.data], [1, 3, 5, 2, 4, 6]);
  assert.deepEqual([...sliceRows(m, 1, 3).data], [3, 5, 4, 6]);
  assert.deepEqual([...takeRows(m, [2, 0]).data], [5, 1, 6, 2]);
  assert.throws(() => matrixFromRows([[1], [1, 2]]), RangeError);
});

test('a free-text column is encoded by its recurring words for the label model only', () => {
  const makes = ['ford', 'toyota', 'fiat'];
  const names = Array.from({ length: 120 }, (_, i) => `${makes[i % 3]} Model-${i}`);
  names[0] = 'FORD pinto (sw)';
  const encoder = fitFeatureEncoder([strings('name', names), numeric('x', names.map((_, i) => i))]);
  assert.deepEqual(encoder.dropped, []);
  assert.deepEqual(featureNames(encoder, 'standardised'), ['name~model', 'name~fiat', 'name~ford', 'name~toyota', 'x']);
  assert.deepEqual(featureNames(encoder, 'raw'), ['x']);
  const m = encodeFeatures(encoder, batch([strings('name', ['Ford Fiesta', 'fiat-toyota', null]), numeric('x', [1, 2, 3])]), 'standardised');
  assert.deepEqual(column(m, 'name~ford'), [1, 0, 0]);
  assert.deepEqual(column(m, 'name~fiat'), [0, 1, 0]);
  assert.deepEqual(column(m, 'name~toyota'), [0, 1, 0]);
  assert.deepEqual(column(m, 'name~model'), [0, 0, 0]);
});
