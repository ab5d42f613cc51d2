import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson, type JsonValue } from '../../src/provenance/canonical-json.js';
import { parseByteSize, parseDuration } from '../../src/provenance/units.js';

describe('canonicalJson', () => {
  const cases: Array<[JsonValue, string]> = [
    [{ b: 1, a: [true, null, 'x'] }, '{"a":[true,null,"x"],"b":1}'],
    [{ z: { y: 2, x: 1 }, 'é': 0, A: 0 }, '{"A":0,"z":{"x":1,"y":2},"é":0}'],
    [{ skipped: undefined, kept: 'a"b' }, '{"kept":"a\\"b"}'],
    [[], '[]'],
    [-0, '0'],
    ['line\nbreak', '"line\\nbreak"'],
  ];
  for (const [value, expected] of cases) {
    it(`${JSON.stringify(value)} -> ${expected}`, () => assert.equal(canonicalJson(value), expected));
  }
  it('rejects non-finite numbers', () => assert.throws(() => canonicalJson({ x: Number.NaN }), TypeError));
});

describe('parseDuration', () => {
  const cases: Array<[string, number | null]> = [
    ['7d', 7 * 86_400_000],
    ['12h', 12 * 3_600_000],
    ['1d12h', 36 * 3_600_000],
    ['30m', 1_800_000],
    ['45s', 45_000],
    ['250ms', 250],
    ['2w', 14 * 86_400_000],
    ['0d', null],
    ['7', null],
    ['d7', null],
    ['7 days', null],
    ['', null],
  ];
  for (const [text, expected] of cases) it(`'${text}' -> ${expected}`, () => assert.equal(parseDuration(text), expected));
});

describe('parseByteSize', () => {
  const cases: Array<[string, number | null]> = [
    ['4MiB', 4 * 1024 * 1024],
    ['65536', 65536],
    ['1KiB', 1024],
    ['2 GiB', 2 * 1024 ** 3],
    ['0', null],
    ['4MB', null],
    ['-1', null],
  ];
  for (const [text, expected] of cases) it(`'${text}' -> ${expected}`, () => assert.equal(parseByteSize(text), expected));
});
