// The canonical serialisation that signatures and hash chains cover: object keys sorted by
// UTF-16 code units, no whitespace, strings and numbers as JSON.stringify writes them. For the
// values datawarden signs (strings, integers, booleans, null, arrays, objects) this is the same
// byte string RFC 8785 (JSON Canonicalization Scheme) produces, so other languages can verify.

export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue | undefined };

export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`canonical JSON cannot hold the number ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((item: JsonValue) => canonicalJson(item)).join(',')}]`;
  const object = value as { readonly [key: string]: JsonValue | undefined };
  const parts: string[] = [];
  // Default sort compares UTF-16 code units, which is what RFC 8785 asks for.
  for (const key of Object.keys(object).sort()) {
    const item = object[key];
    // Absent optional fields are skipped, as JSON.stringify skips them.
    if (item === undefined) continue;
    parts.push(`${JSON.stringify(key)}:${canonicalJson(item)}`);
  }
  return `{${parts.join(',')}}`;
}
