// Timestamps written in a given layout, as strptime reads them: the `format` of a contract's
// timestamp column, for text that is not ISO-8601 ("2015/01/01 01:00:00", "1/5/2020 1:02 PM").
// The directives are those DuckDB's CSV sniffer proposes, which is where `infer` finds a format,
// and they read text the way DuckDB's strptime does: numbers without their zero padding (years
// too), spaces around the value ignored, two-digit years 69-99 in the 1900s and 00-68 in the
// 2000s, a value without a zone in UTC.
import { parseTimestamp, utcMicros, zoneOffsetMinutes } from './parse.js';

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH_NAMES = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

/** What each directive matches, and the field it sets. */
const DIRECTIVES: Readonly<Record<string, { readonly pattern: string; readonly field: Field }>> = {
  Y: { pattern: '(\\d{1,4})', field: 'year' },
  y: { pattern: '(\\d{1,2})', field: 'shortYear' },
  m: { pattern: '(\\d{1,2})', field: 'month' },
  b: { pattern: '([A-Za-z]{3})', field: 'monthAbbreviation' },
  B: { pattern: '([A-Za-z]{3,9})', field: 'monthName' },
  d: { pattern: '(\\d{1,2})', field: 'day' },
  H: { pattern: '(\\d{1,2})', field: 'hour' },
  I: { pattern: '(\\d{1,2})', field: 'hour12' },
  p: { pattern: '([AaPp][Mm])', field: 'meridiem' },
  M: { pattern: '(\\d{1,2})', field: 'minute' },
  S: { pattern: '(\\d{1,2})', field: 'second' },
  f: { pattern: '(\\d{1,6})', field: 'fraction' },
  z: { pattern: '(Z|z|[+-]\\d{2}(?::?\\d{2})?)', field: 'zone' },
};

type Field = 'year' | 'shortYear' | 'month' | 'monthAbbreviation' | 'monthName' | 'day' | 'hour' | 'hour12' | 'meridiem' | 'minute' | 'second' | 'fraction' | 'zone';

/** The directives a format may use, as the error for an unknown one lists them. */
export const TIMESTAMP_DIRECTIVES = `${Object.keys(DIRECTIVES).map((d) => `%${d}`).join(' ')} %%`;

/** Text to epoch microseconds, or null when the text is not a timestamp in the format. */
export type TimestampParser = (text: string) => number | null;

/**
 * The parser for a strptime format, or a message saying what is wrong with the format: an
 * unknown directive, a field given twice, no year, month or day, %I without %p or the reverse.
 */
export function compileTimestampFormat(format: string): TimestampParser | string {
  let source = '';
  const fields: Field[] = [];
  for (let i = 0; i < format.length; i++) {
    const ch = format[i]!;
    if (ch !== '%') {
      source += /\s/.test(ch) ? '\\s+' : ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      continue;
    }
    const directive = format[++i];
    if (directive === '%') {
      source += '%';
      continue;
    }
    const known = directive === undefined ? undefined : DIRECTIVES[directive];
    if (known === undefined) {
      return directive === undefined
        ? `format '${format}' ends in a lone %`
        : `format '${format}' uses %${directive}, which is not read (known: ${TIMESTAMP_DIRECTIVES})`;
    }
    if (fields.includes(known.field)) return `format '${format}' gives %${directive} twice`;
    fields.push(known.field);
    source += known.pattern;
  }
  const has = (...any: Field[]) => any.some((f) => fields.includes(f));
  if (!has('year', 'shortYear') || !has('month', 'monthAbbreviation', 'monthName') || !has('day')) {
    return `format '${format}' needs a year (%Y or %y), a month (%m, %b or %B) and a day (%d)`;
  }
  if (has('year') && has('shortYear')) return `format '${format}' gives the year twice (%Y and %y)`;
  if ([has('month'), has('monthAbbreviation'), has('monthName')].filter(Boolean).length > 1) return `format '${format}' gives the month twice`;
  if (has('hour12') !== has('meridiem')) return `format '${format}' needs %I and %p together (a 12-hour clock and AM/PM)`;
  if (has('hour') && has('hour12')) return `format '${format}' gives the hour twice (%H and %I)`;
  const expression = new RegExp(`^\\s*${source}\\s*$`);
  return (text) => {
    const match = expression.exec(text);
    return match === null ? null : timestampOf(fields, match);
  };
}

/**
 * The parser for a column: ISO-8601, and text in the column's contract `format` when it has one
 * (checked when the contract was loaded). ISO text passes either way: it is what datawarden
 * writes when it converts timestamps to text, and it cannot be misread.
 */
export function timestampParser(format: string | undefined): TimestampParser {
  if (format === undefined) return parseTimestamp;
  const parser = compileTimestampFormat(format);
  if (typeof parser === 'string') throw new Error(parser);
  return (text) => parser(text) ?? parseTimestamp(text);
}

function timestampOf(fields: readonly Field[], match: RegExpExecArray): number | null {
  let year = 1970;
  let month = 1;
  let day = 1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let micros = 0;
  let pm: boolean | null = null;
  let offsetMinutes = 0;
  for (let k = 0; k < fields.length; k++) {
    const text = match[k + 1]!;
    switch (fields[k]) {
      case 'year': year = Number(text); break;
      case 'shortYear': year = Number(text) + (Number(text) >= 69 ? 1900 : 2000); break;
      case 'month': month = Number(text); break;
      case 'monthAbbreviation': month = MONTHS.indexOf(text.toLowerCase()) + 1; break;
      case 'monthName': month = MONTH_NAMES.indexOf(text.toLowerCase()) + 1; break;
      case 'day': day = Number(text); break;
      case 'hour': hour = Number(text); break;
      case 'hour12': hour = Number(text); if (hour < 1 || hour > 12) return null; break;
      case 'meridiem': pm = text.toLowerCase() === 'pm'; break;
      case 'minute': minute = Number(text); break;
      case 'second': second = Number(text); break;
      case 'fraction': micros = Number(text.padEnd(6, '0')); break;
      case 'zone': offsetMinutes = zoneOffsetMinutes(text); break;
    }
  }
  if (pm !== null) hour = (hour % 12) + (pm ? 12 : 0);
  return utcMicros(year, month, day, hour, minute, second, micros, offsetMinutes);
}
