// The RLE / bit-packed hybrid encoding, used for definition levels and dictionary indices.
import type { ByteWriter } from './bytes.js';

/** Runs of at least this many equal values are run-length encoded; shorter ones are bit-packed. */
const MIN_RUN = 8;

/** Bit-packs values[from, to) in groups of 8, zero-padding the last group. */
function bitPackedRun(out: ByteWriter, values: ArrayLike<number>, from: number, to: number, bitWidth: number): void {
  const groups = Math.ceil((to - from) / 8);
  out.varint(groups * 2 + 1);
  out.reserve(groups * bitWidth);
  const b = out.buffer;
  let at = out.length;
  if (bitWidth === 1) {
    for (let i = from; i < to; i += 8) {
      let byte = 0;
      const stop = Math.min(8, to - i);
      for (let k = 0; k < stop; k++) byte |= values[i + k]! << k;
      b[at++] = byte;
    }
  } else {
    let acc = 0;
    let bits = 0;
    const end = from + groups * 8;
    for (let i = from; i < end; i++) {
      acc |= (i < to ? values[i]! : 0) << bits;
      bits += bitWidth;
      while (bits >= 8) {
        b[at++] = acc & 0xff;
        acc >>>= 8;
        bits -= 8;
      }
    }
  }
  out.length = at;
}

function rleRun(out: ByteWriter, value: number, count: number, bitWidth: number): void {
  out.varint(count * 2);
  for (let w = 0; w < bitWidth; w += 8) out.byte((value >>> w) & 0xff);
}

/**
 * Encodes values[from, to) (each below 2^bitWidth, bitWidth 1..24) as the hybrid: long runs of
 * one value as RLE runs, the rest bit-packed. A bit-packed run that is followed by another run
 * must hold a multiple of 8 values, so it borrows the first values of the run that follows.
 */
export function writeHybrid(out: ByteWriter, values: ArrayLike<number>, from: number, to: number, bitWidth: number): void {
  let packedFrom = -1;
  let i = from;
  while (i < to) {
    const value = values[i]!;
    let j = i + 1;
    while (j < to && values[j] === value) j++;
    if (j - i >= MIN_RUN) {
      if (packedFrom >= 0) {
        const pad = (8 - ((i - packedFrom) & 7)) & 7;
        if (j - i - pad < MIN_RUN) {
          i = j;
          continue;
        }
        i += pad;
        bitPackedRun(out, values, packedFrom, i, bitWidth);
        packedFrom = -1;
      }
      rleRun(out, value, j - i, bitWidth);
    } else if (packedFrom < 0) {
      packedFrom = i;
    }
    i = j;
  }
  if (packedFrom >= 0) bitPackedRun(out, values, packedFrom, to, bitWidth);
}

export function countNulls(valid: Uint8Array | null, from: number, to: number): number {
  if (valid === null) return 0;
  let present = 0;
  for (let i = from; i < to; i++) present += valid[i]!;
  return to - from - present;
}

/**
 * Definition levels of rows [from, to) of an optional column as data page v1 stores them: a
 * 4-byte length, then the hybrid at bit width 1 (1 = present).
 */
export function writeDefinitionLevels(out: ByteWriter, valid: Uint8Array | null, from: number, to: number, nulls: number): void {
  const lengthAt = out.length;
  out.uint32(0);
  if (nulls === 0 || valid === null) rleRun(out, 1, to - from, 1);
  else writeHybrid(out, valid, from, to, 1);
  const length = out.length - lengthAt - 4;
  const b = out.buffer;
  b[lengthAt] = length & 0xff;
  b[lengthAt + 1] = (length >>> 8) & 0xff;
  b[lengthAt + 2] = (length >>> 16) & 0xff;
  b[lengthAt + 3] = length >>> 24;
}

/** Booleans bit-packed LSB first (PLAIN for BOOLEAN), skipping rows that are null. */
export function writePackedBooleans(out: ByteWriter, values: Uint8Array, valid: Uint8Array | null, from: number, to: number, count: number): void {
  const bytes = (count + 7) >> 3;
  out.reserve(bytes);
  const b = out.buffer;
  const at = out.length;
  b.fill(0, at, at + bytes);
  let k = 0;
  for (let i = from; i < to; i++) {
    if (valid !== null && valid[i] === 0) continue;
    if (values[i] !== 0) b[at + (k >> 3)]! |= 1 << (k & 7);
    k++;
  }
  out.length = at + bytes;
}
