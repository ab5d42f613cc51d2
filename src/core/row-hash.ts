// 64-bit content hashes of rows, computed column by column over typed arrays as two independent
// 32-bit lanes (murmur3 mixing with different seeds). At 5M rows the chance that two different
// rows share a hash is about 7e-7.
import { EXACT_DOUBLE_LIMIT, type Column } from './types.js';

const SEED_HI = 0x9747b28c;
const SEED_LO = 0x2f6b0a1d;
const NULL_WORD = 0x6e756c6c; // "null"
const EXACT_TAG = 0x696e7438; // "int8"

function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Two 32-bit hashes of a string, from its UTF-16 code units. */
export function hashString(text: string, seed: number): number {
  let h = seed ^ text.length;
  for (let i = 0; i < text.length; i++) h = mix(h, text.charCodeAt(i));
  return finish(h);
}

const MEMO_LIMIT = 4096;
const memoLo = new Map<string, number>();

/** Row hashes of `rowCount` rows over `columns`, written into `hi` and `lo`. */
export function hashRows(columns: readonly Column[], rowCount: number, hi: Uint32Array, lo: Uint32Array): void {
  hi.fill(SEED_HI, 0, rowCount);
  lo.fill(SEED_LO, 0, rowCount);
  for (let c = 0; c < columns.length; c++) mixColumn(columns[c]!, c, rowCount, hi, lo);
  for (let i = 0; i < rowCount; i++) {
    hi[i] = finish(hi[i]!);
    lo[i] = finish(lo[i]!);
  }
}

/** Mixes one column into the running row hashes; the column's position salts it. */
function mixColumn(column: Column, position: number, rowCount: number, hi: Uint32Array, lo: Uint32Array): void {
  const valid = column.valid;
  const salt = Math.imul(position + 1, 0x27d4eb2f);
  if (column.type === 'string') {
    const values = column.values;
    // Categories repeat: hash each distinct string once per batch (both lanes, in one entry).
    const memo = new Map<string, number>();
    for (let i = 0; i < rowCount; i++) {
      if (valid !== null && valid[i] === 0) {
        hi[i] = mix(hi[i]!, NULL_WORD ^ salt);
        lo[i] = mix(lo[i]!, NULL_WORD ^ salt);
        continue;
      }
      const text = values[i]!;
      let keyHi = memo.get(text);
      let keyLo: number;
      if (keyHi === undefined) {
        keyHi = hashString(text, SEED_HI);
        keyLo = hashString(text, SEED_LO);
        if (memo.size < MEMO_LIMIT) {
          memo.set(text, keyHi);
          memoLo.set(text, keyLo);
        }
      } else {
        keyLo = memoLo.get(text)!;
      }
      hi[i] = mix(hi[i]!, keyHi ^ salt);
      lo[i] = mix(lo[i]!, keyLo ^ salt);
    }
    memoLo.clear();
    return;
  }
  if (column.type === 'bool') {
    const values = column.values;
    for (let i = 0; i < rowCount; i++) {
      const word = (valid !== null && valid[i] === 0 ? NULL_WORD : values[i]!) ^ salt;
      hi[i] = mix(hi[i]!, word);
      lo[i] = mix(lo[i]!, word);
    }
    return;
  }
  const values = column.values;
  // The values' bits read in place, two 32-bit words a value (little-endian: low word first).
  const words = new Uint32Array(values.buffer, values.byteOffset, rowCount * 2);
  // An integer past 2^53 is hashed as its exact int64 (tagged apart from doubles' bits): its
  // double may equal a neighbour's. Below 2^53 the double is exact, so either way a value hashes alike.
  const exact = column.exact ? new Uint32Array(column.exact.buffer, column.exact.byteOffset, rowCount * 2) : null;
  for (let i = 0; i < rowCount; i++) {
    if (valid !== null && valid[i] === 0) {
      hi[i] = mix(hi[i]!, NULL_WORD ^ salt);
      lo[i] = mix(mix(lo[i]!, NULL_WORD), salt);
      continue;
    }
    if (exact !== null && Math.abs(values[i]!) >= EXACT_DOUBLE_LIMIT) {
      const low = exact[2 * i]! ^ EXACT_TAG ^ salt;
      const high = exact[2 * i + 1]!;
      hi[i] = mix(hi[i]!, (low + Math.imul(high, 0x85ebca6b)) | 0);
      lo[i] = mix(lo[i]!, (high + Math.imul(low, 0x9e3779b8)) | 0);
      continue;
    }
    const lowWord = words[2 * i]!;
    let high = words[2 * i + 1]!;
    let low = lowWord;
    // -0 hashes as 0, and every NaN as one NaN, so equal numbers hash equally.
    if (high === 0x80000000 && low === 0) high = 0;
    else if ((high & 0x7ff00000) === 0x7ff00000 && ((high & 0xfffff) | low) !== 0) {
      high = 0x7ff80000;
      low = 0;
    }
    low ^= salt;
    // (low + high*odd, high + low*even) is a bijection on the value's 64 bits (the map's
    // determinant 1 - odd*even is odd), so one mix per lane keeps every bit of the value.
    hi[i] = mix(hi[i]!, (low + Math.imul(high, 0x85ebca6b)) | 0);
    lo[i] = mix(lo[i]!, (high + Math.imul(low, 0x9e3779b8)) | 0);
  }
}
