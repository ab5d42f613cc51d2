// Timestamp text in a contract column's `format`: what reads, to which instant, and what does not,
// each row checked against DuckDB's strptime, whose sniffer is where `infer` finds formats.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileTimestampFormat, timestampParser } from '../../src/core/timestamp-format.js';
import { connect, sqlString } from '../../src/io/duckdb.js';

const READ: readonly [format: string, text: string, instant: string][] = [
  ['%Y/%m/%d %H:%M:%S', '2015/01/01 01:00:00', '2015-01-01T01:00:00.000Z'],
  ['%Y/%m/%d %H:%M:%S', '2015/1/5 4:07:09', '2015-01-05T04:07:09.000Z'],
  ['%m/%d/%Y', '01/15/2020', '2020-01-15T00:00:00.000Z'],
  ['%d/%m/%Y', '15/01/2020', '2020-01-15T00:00:00.000Z'],
  ['%d-%m-%Y', '29-02-2024', '2024-02-29T00:00:00.000Z'],
  ['%Y.%m.%d', '2020.01.05', '2020-01-05T00:00:00.000Z'],
  ['%m/%d/%y', '1/5/20', '2020-01-05T00:00:00.000Z'],
  ['%m/%d/%y', '12/31/68', '2068-12-31T00:00:00.000Z'],
  ['%m/%d/%y', '12/31/69', '1969-12-31T00:00:00.000Z'],
  ['%m/%d/%Y %I:%M:%S %p', '1/5/2020 1:02:03 PM', '2020-01-05T13:02:03.000Z'],
  ['%m/%d/%Y %I:%M:%S %p', '12/31/1999 12:02:03 am', '1999-12-31T00:02:03.000Z'],
  ['%m/%d/%Y %I:%M:%S %p', '12/31/1999 12:02:03 PM', '1999-12-31T12:02:03.000Z'],
  ['%Y-%m-%d %H:%M:%S.%f', '2020-01-05 10:00:00.5', '2020-01-05T10:00:00.500Z'],
  ['%Y-%m-%d %H:%M:%S.%f', '2020-01-05 10:00:00.000250', '2020-01-05T10:00:00.000250Z'],
  ['%d %b %Y', '05 Jan 2020', '2020-01-05T00:00:00.000Z'],
  ['%d %B %Y', '5 september 2021', '2021-09-05T00:00:00.000Z'],
  ['%Y-%m-%d %H:%M:%S%z', '2020-01-05 10:00:00+02', '2020-01-05T08:00:00.000Z'],
  ['%Y-%m-%d %H:%M:%S%z', '2020-01-05 10:00:00-05:30', '2020-01-05T15:30:00.000Z'],
  ['%Y/%m/%d', ' 2020/01/05 ', '2020-01-05T00:00:00.000Z'],
  ['%Y/%m/%d', '0050/01/05', '0050-01-05T00:00:00.000Z'],
  ['%Y/%m/%d', '20/01/05', '0020-01-05T00:00:00.000Z'],
];

const NOT_READ: readonly [format: string, text: string][] = [
  ['%Y/%m/%d', '2020/02/30'],
  ['%Y/%m/%d', '2021/02/29'],
  ['%Y/%m/%d', '2020/13/01'],
  ['%Y/%m/%d', '2020-01-05x'],
  ['%Y/%m/%d %H:%M:%S', '2020/01/05 24:00:00'],
  ['%Y/%m/%d %H:%M:%S', '2020/01/05 10:60:00'],
  ['%Y/%m/%d %H:%M:%S', '2020/01/05 10:00:60'],
  ['%m/%d/%Y %I:%M:%S %p', '1/5/2020 13:02:03 PM'],
  ['%m/%d/%Y %I:%M:%S %p', '1/5/2020 0:02:03 AM'],
  ['%Y-%m-%d %H:%M:%S.%f', '2020-01-05 10:00:00.1234567'],
  ['%d %b %Y', '05 Jnu 2020'],
  ['%m/%d/%Y', ''],
];

const iso = (micros: number | null) => {
  if (micros === null) return null;
  const rest = micros % 1000;
  const text = new Date(Math.floor(micros / 1000)).toISOString();
  return rest === 0 ? text : `${text.slice(0, -1)}${String(rest).padStart(3, '0')}Z`;
};

test('a format reads its text to the instant it names, in UTC unless the text gives a zone', () => {
  for (const [format, text, instant] of READ) {
    const parse = compileTimestampFormat(format);
    assert.equal(typeof parse, 'function', format);
    assert.equal(iso((parse as (t: string) => number | null)(text)), instant, `${format} ${JSON.stringify(text)}`);
  }
});

test('text that is not a timestamp in the format, or names no real instant, does not read', () => {
  for (const [format, text] of NOT_READ) {
    const parse = compileTimestampFormat(format) as (t: string) => number | null;
    assert.equal(parse(text), null, `${format} ${JSON.stringify(text)}`);
  }
});

test("every row reads as DuckDB's strptime reads it", async () => {
  const connection = await connect();
  try {
    for (const [format, text] of [...READ, ...NOT_READ]) {
      // epoch_us of a TIMESTAMPTZ is the instant; a text without a zone is read as UTC.
      const [[duckdb]] = await connection.rows(`SELECT epoch_us(try_strptime(${sqlString(text)}, ${sqlString(format)})::TIMESTAMPTZ)`) as [[string | null]];
      const ours = (compileTimestampFormat(format) as (t: string) => number | null)(text);
      assert.equal(ours === null ? null : String(ours), duckdb, `${format} ${JSON.stringify(text)}`);
    }
  } finally {
    connection.closeSync();
  }
});

test('a column with a format still reads ISO-8601, which is what datawarden writes', () => {
  const parse = timestampParser('%d/%m/%Y');
  assert.equal(iso(parse('05/01/2020')), '2020-01-05T00:00:00.000Z');
  assert.equal(iso(parse('2020-01-05T10:00:00Z')), '2020-01-05T10:00:00.000Z');
  assert.equal(parse('2020/01/05'), null);
});

test('a format that cannot name an instant is refused, saying why', () => {
  const refused: readonly [format: string, message: RegExp][] = [
    ['%Y/%m/%d %Q', /uses %Q, which is not read \(known: %Y %y %m %b %B %d %H %I %p %M %S %f %z %%\)/],
    ['%Y/%m/%d %', /ends in a lone %/],
    ['%H:%M:%S', /needs a year \(%Y or %y\), a month \(%m, %b or %B\) and a day \(%d\)/],
    ['%Y/%m', /needs a year/],
    ['%Y/%m/%d/%m', /gives %m twice/],
    ['%Y %y %m %d', /gives the year twice/],
    ['%Y %b %m %d', /gives the month twice/],
    ['%Y/%m/%d %I:%M', /needs %I and %p together/],
    ['%Y/%m/%d %H:%M %p', /needs %I and %p together/],
  ];
  for (const [format, message] of refused) {
    const result = compileTimestampFormat(format);
    assert.equal(typeof result, 'string', format);
    assert.match(result as string, message, format);
  }
});
