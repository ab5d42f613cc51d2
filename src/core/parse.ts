// Parsing and formatting of text values, shared by coercion, contracts and writers.

// Years past 9999 or before 0 take ISO's expanded form, a sign and six digits, as toISOString writes them.
const ISO = /^(\d{4}|[+-]\d{6})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/** ISO-8601 date or date-time text to epoch microseconds, or null when it is not one. */
export function parseTimestamp(text: string): number | null {
  const m = ISO.exec(text.trim());
  if (!m) return null;
  const fraction = m[7] ? Math.round(Number(`0.${m[7]}`) * 1e6) : 0;
  const zone = m[8] ? zoneOffsetMinutes(m[8]) : 0;
  return utcMicros(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0), fraction, zone, 60);
}

/** A zone as text gives it (`Z`, `+02`, `-0530`, `+05:30`) to minutes east of UTC. */
export function zoneOffsetMinutes(zone: string): number {
  if (zone === 'Z' || zone === 'z') return 0;
  const digits = zone.slice(1).replace(':', '');
  return (zone[0] === '-' ? -1 : 1) * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || 0));
}

/**
 * A calendar date and time of day, at `offsetMinutes` east of UTC, to epoch microseconds; null
 * when no such instant exists (February 30, hour 24, a second past `maxSecond`).
 */
export function utcMicros(
  year: number, month: number, day: number, hour: number, minute: number, second: number,
  micros: number, offsetMinutes: number, maxSecond = 59,
): number | null {
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > maxSecond) return null;
  // setUTCFullYear, not Date.UTC, which reads years 0-99 as 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  // A day past the month's end rolls into the next month: such a date does not exist.
  if (date.getUTCDate() !== day) return null;
  const millis = date.getTime() + ((hour * 60 + minute - offsetMinutes) * 60 + second) * 1000;
  return millis * 1000 + micros;
}

/** Epoch microseconds to ISO-8601 UTC text, keeping microseconds when there are any. */
export function formatTimestamp(micros: number): string {
  const millis = Math.floor(micros / 1000);
  const rest = Math.round(micros - millis * 1000);
  const iso = new Date(millis).toISOString();
  return rest === 0 ? iso : `${iso.slice(0, -1)}${String(rest).padStart(3, '0')}Z`;
}

const NUMBER_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$|^[+-]?(?:inf|infinity|nan)$/i;

/**
 * Whether text is a plain decimal number as NUMBER_TEXT spells it, with no surrounding spaces and
 * no inf or nan: nearly every cell of a numeric column, checked without allocating.
 */
function isPlainDecimal(text: string): boolean {
  const n = text.length;
  let i = 0;
  let c = text.charCodeAt(0);
  if (c === 43 || c === 45) i++; // + -
  let digits = 0;
  for (; i < n && (c = text.charCodeAt(i)) >= 48 && c <= 57; i++) digits++;
  if (i < n && text.charCodeAt(i) === 46) { // .
    for (i++; i < n && (c = text.charCodeAt(i)) >= 48 && c <= 57; i++) digits++;
  }
  if (digits === 0) return false;
  if (i < n && (text.charCodeAt(i) | 32) === 101) { // e E
    i++;
    if (i < n && ((c = text.charCodeAt(i)) === 43 || c === 45)) i++;
    const from = i;
    for (; i < n && (c = text.charCodeAt(i)) >= 48 && c <= 57; i++);
    if (i === from) return false;
  }
  return i === n;
}

/** Decimal text to a number; NaN when the text is not a decimal number. */
export function parseNumberText(text: string): number {
  if (isPlainDecimal(text)) return Number(text);
  const trimmed = text.trim();
  if (!NUMBER_TEXT.test(trimmed)) return Number.NaN;
  const lower = trimmed.toLowerCase().replace(/^\+/, '');
  if (lower === 'nan' || lower === '-nan') return Number.NaN;
  if (lower === 'inf' || lower === 'infinity') return Number.POSITIVE_INFINITY;
  if (lower === '-inf' || lower === '-infinity') return Number.NEGATIVE_INFINITY;
  return Number(trimmed);
}

/** Whether text spells a number, including NaN and infinities. */
export function isNumberText(text: string): boolean {
  return isPlainDecimal(text) || NUMBER_TEXT.test(text.trim());
}

const TRUE_TEXT = new Set(['true', 't', '1', 'yes', 'y']);
const FALSE_TEXT = new Set(['false', 'f', '0', 'no', 'n']);

/** Boolean text to 1 or 0, or -1 when it is not a boolean. */
export function parseBoolText(text: string): number {
  const lower = text.trim().toLowerCase();
  if (TRUE_TEXT.has(lower)) return 1;
  if (FALSE_TEXT.has(lower)) return 0;
  return -1;
}

/** The string a JSON string literal holds (the text includes its quotes). */
export function jsonStringValue(text: string): string {
  return text.includes('\\') ? (JSON.parse(text) as string) : text.slice(1, -1);
}
