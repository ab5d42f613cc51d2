// Text as a CSV or JSON Lines cell spells numbers and ISO-8601 timestamps: what parses, to what, and what is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isNumberText, parseNumberText, parseTimestamp } from '../../src/core/parse.js';

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

const TIMESTAMPS: readonly [text: string, instant: string | null][] = [
  ['2020-01-15', '2020-01-15T00:00:00.000Z'],
  ['2020-01-15 10:00', '2020-01-15T10:00:00.000Z'],
  ['2020-01-15T10:00:00.25+02:00', '2020-01-15T08:00:00.250Z'],
  ['2020-01-15T10:00:00-0530', '2020-01-15T15:30:00.000Z'],
  ['1998-12-31T23:59:60Z', '1999-01-01T00:00:00.000Z'],
  // Years below 100 are those years, not 1900 onwards.
  ['0050-01-05', '0050-01-05T00:00:00.000Z'],
  // Expanded years, as toISOString writes them past 9999 and before year 0.
  ['+275760-09-13T00:00:00.000Z', '+275760-09-13T00:00:00.000Z'],
  ['-250055-08-30T00:00:00.000Z', '-250055-08-30T00:00:00.000Z'],
  ['2021-02-29', null],
  ['2020-01-15T24:00:00', null],
  ['2020/01/15', null],
];

test('parseTimestamp reads ISO-8601 dates and date-times to the instant they name', () => {
  for (const [text, instant] of TIMESTAMPS) {
    const micros = parseTimestamp(text);
    assert.equal(micros === null ? null : new Date(micros / 1000).toISOString(), instant, text);
  }
});
