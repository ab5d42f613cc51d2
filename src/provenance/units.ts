// Durations ("7d", "12h", "1d12h") and byte sizes ("4MiB") as contracts and options write them.

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Parses one or more `<integer><unit>` parts (units ms, s, m, h, d, w) into milliseconds; null if malformed. */
export function parseDuration(text: string): number | null {
  const trimmed = text.trim();
  if (!/^(\d+(ms|s|m|h|d|w))+$/.test(trimmed)) return null;
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(/(\d+)(ms|s|m|h|d|w)/g)) total += Number(amount) * DURATION_UNITS[unit!]!;
  return total > 0 && Number.isSafeInteger(total) ? total : null;
}

export const DURATION_HELP = 'a duration such as 30m, 12h, 7d or 1d12h (units ms, s, m, h, d, w)';

const BYTE_UNITS: Readonly<Record<string, number>> = { '': 1, B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

/** Parses `<integer>[B|KiB|MiB|GiB]` into bytes; null if malformed or not positive. */
export function parseByteSize(text: string): number | null {
  const match = /^(\d+)\s*(B|KiB|MiB|GiB)?$/.exec(text.trim());
  if (!match) return null;
  const bytes = Number(match[1]) * BYTE_UNITS[match[2] ?? '']!;
  return bytes > 0 && Number.isSafeInteger(bytes) ? bytes : null;
}
