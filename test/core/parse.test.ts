// Number text as a CSV or JSON Lines cell spells it: what parses, to what, and what is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isNumberText, parseNumberText } from '../../src/core/parse.js';

const NUMBERS: readonly [text: string, value: number][] = [
  ['1', 1], ['-0', -0], ['+5', 5], ['.5', 0.5], ['5.', 5], ['007', 7], ['1e5', 1e5], ['1E-2', 0.01],
  ['+.5e+3', 500], ['84.66692920733149', 84.66692920733149], [' 7 ', 7], ['\t-2.5', -2.5],
  ['nan', NaN], ['-NaN', NaN], ['inf', Infinity], ['-Infinity', -Infinity], ['+inf', Infinity],
];
const NOT_NUMBERS = ['', ' ', '.', '-', '+', 'e5', '1e', '1e+', '1.2.3', '0x10', '1_000', '1,5', '--1', '\u0661', 'infinit', '1 2', 'NaNa'];

test('parseNumberText reads decimal text, with surrounding spaces, NaN and infinities', () => {
  for (const [text, value] of NUMBERS) {
    assert.ok(isNumberText(text), JSON.stringify(text));
    assert.ok(Object.is(parseNumberText(text), value), `${JSON.stringify(text)} -> ${parseNumberText(text)}`);
  }
});

test('anything else is not a number', () => {
  for (const text of NOT_NUMBERS) {
    assert.equal(isNumberText(text), false, JSON.stringify(text));
    assert.ok(Number.isNaN(parseNumberText(text)), JSON.stringify(text));
  }
});
