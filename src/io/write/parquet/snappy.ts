// Snappy block compression (the raw format, no framing), as Parquet's SNAPPY codec expects.
// The matcher is the reference one: 64 KiB fragments compressed independently, a hash table of
// 4-byte sequences, greedy matches, and a lookup stride that grows by 1/32 of the distance
// scanned since the last match, so incompressible input is skipped in little time.

const BLOCK_SIZE = 1 << 16;
const MAX_HASH_BITS = 14;
/** The matcher stops this many bytes before a fragment's end so 4-byte loads stay inside it. */
const INPUT_MARGIN = 15;
const HASH_MULTIPLIER = 0x1e35a7bd;

const table = new Uint16Array(1 << MAX_HASH_BITS);

/** The largest output compressing `length` bytes can produce (the reference bound). */
export function maxCompressedLength(length: number): number {
  return 32 + length + Math.floor(length / 6);
}

function emitLiteral(input: Uint8Array, from: number, length: number, out: Uint8Array, op: number): number {
  const n = length - 1;
  if (n < 60) {
    out[op++] = n << 2;
  } else if (n < 0x100) {
    out[op++] = 60 << 2;
    out[op++] = n;
  } else if (n < 0x10000) {
    out[op++] = 61 << 2;
    out[op++] = n & 0xff;
    out[op++] = n >>> 8;
  } else if (n < 0x1000000) {
    out[op++] = 62 << 2;
    out[op++] = n & 0xff;
    out[op++] = (n >>> 8) & 0xff;
    out[op++] = n >>> 16;
  } else {
    out[op++] = 63 << 2;
    out[op++] = n & 0xff;
    out[op++] = (n >>> 8) & 0xff;
    out[op++] = (n >>> 16) & 0xff;
    out[op++] = n >>> 24;
  }
  // A subarray per literal costs more than copying short literals by hand.
  if (length < 128) {
    for (let i = 0; i < length; i++) out[op + i] = input[from + i]!;
  } else {
    out.set(input.subarray(from, from + length), op);
  }
  return op + length;
}

/** One copy element of 4 to 64 bytes. */
function emitCopyUpTo64(offset: number, length: number, out: Uint8Array, op: number): number {
  if (length < 12 && offset < 2048) {
    out[op++] = 1 | ((length - 4) << 2) | ((offset >>> 8) << 5);
    out[op++] = offset & 0xff;
  } else {
    out[op++] = 2 | ((length - 1) << 2);
    out[op++] = offset & 0xff;
    out[op++] = offset >>> 8;
  }
  return op;
}

function emitCopy(offset: number, length: number, out: Uint8Array, op: number): number {
  // Split so that no piece is shorter than 4 bytes.
  while (length >= 68) {
    op = emitCopyUpTo64(offset, 64, out, op);
    length -= 64;
  }
  if (length > 64) {
    op = emitCopyUpTo64(offset, 60, out, op);
    length -= 60;
  }
  return emitCopyUpTo64(offset, length, out, op);
}

/** Compresses input[start, end) (at most 64 KiB) on its own; returns the new output position. */
function compressFragment(input: Uint8Array, view: DataView, start: number, end: number, out: Uint8Array, op: number): number {
  const length = end - start;
  let nextEmit = start;
  if (length >= INPUT_MARGIN) {
    let bits = 8;
    while (bits < MAX_HASH_BITS && 1 << bits < length) bits++;
    const shift = 32 - bits;
    table.fill(0, 0, 1 << bits);
    const ipLimit = end - INPUT_MARGIN;
    let ip = start + 1;
    let nextHash = Math.imul(view.getInt32(ip, true), HASH_MULTIPLIER) >>> shift;
    outer: for (;;) {
      // Look for a 4-byte match, striding further the longer nothing matches. DataView loads
      // are unaligned 32-bit reads, several times faster here than assembling bytes.
      let skip = 32;
      let nextIp = ip;
      let nextBytes = view.getInt32(ip, true);
      let candidate: number;
      let bytes: number;
      do {
        ip = nextIp;
        bytes = nextBytes;
        const hash = nextHash;
        const stride = skip >>> 5;
        nextIp = ip + stride;
        skip += stride;
        if (nextIp > ipLimit) break outer;
        nextBytes = view.getInt32(nextIp, true);
        nextHash = Math.imul(nextBytes, HASH_MULTIPLIER) >>> shift;
        candidate = start + table[hash]!;
        table[hash] = ip - start;
      } while (bytes !== view.getInt32(candidate, true));

      op = emitLiteral(input, nextEmit, ip - nextEmit, out, op);

      // Emit copies for as long as the next position matches too.
      for (;;) {
        const base = ip;
        let a = candidate + 4;
        let b = ip + 4;
        for (;;) {
          if (b + 4 > end) {
            while (b < end && input[a] === input[b]) {
              a++;
              b++;
            }
            break;
          }
          const x = view.getInt32(a, true) ^ view.getInt32(b, true);
          if (x !== 0) {
            // The lowest differing bit tells how many more bytes matched.
            b += (31 - Math.clz32(x & -x)) >> 3;
            break;
          }
          a += 4;
          b += 4;
        }
        ip = b;
        op = emitCopy(base - candidate, b - base, out, op);
        nextEmit = ip;
        if (ip >= ipLimit) break outer;
        table[Math.imul(view.getInt32(ip - 1, true), HASH_MULTIPLIER) >>> shift] = ip - 1 - start;
        const hash = Math.imul(view.getInt32(ip, true), HASH_MULTIPLIER) >>> shift;
        candidate = start + table[hash]!;
        table[hash] = ip - start;
        if (view.getInt32(ip, true) !== view.getInt32(candidate, true)) break;
      }
      ip++;
      nextHash = Math.imul(view.getInt32(ip, true), HASH_MULTIPLIER) >>> shift;
    }
  }
  if (nextEmit < end) op = emitLiteral(input, nextEmit, end - nextEmit, out, op);
  return op;
}

/**
 * Compresses `input` into `output` (at least maxCompressedLength(input.length) bytes) and
 * returns the compressed length.
 */
export function snappyCompressInto(input: Uint8Array, output: Uint8Array): number {
  const length = input.length;
  if (output.length < maxCompressedLength(length)) throw new RangeError('snappy output buffer too small');
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  let op = 0;
  let n = length;
  while (n >= 0x80) {
    output[op++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  output[op++] = n;
  for (let at = 0; at < length; at += BLOCK_SIZE) {
    const end = Math.min(at + BLOCK_SIZE, length);
    op = compressFragment(input, view, at, end, output, op);
  }
  return op;
}

export function snappyCompress(input: Uint8Array): Uint8Array {
  const output = new Uint8Array(maxCompressedLength(input.length));
  return output.slice(0, snappyCompressInto(input, output));
}
