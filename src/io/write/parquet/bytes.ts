// A growable little-endian byte buffer shared by the page and metadata encoders.

/** A plain Uint8Array over memory that is not zeroed first (everything in it gets written). */
export function uninitialized(length: number): Uint8Array {
  const buffer = Buffer.allocUnsafeSlow(length);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, length);
}

/**
 * Large buffers handed back after the stream has written them, for the next pages. Allocating
 * a fresh one per page makes V8 run a full collection every few megabytes (external memory
 * pressure), which cost a fifth of the writer's time.
 */
export class BufferPool {
  private readonly free = new Map<number, Uint8Array[]>();
  private keptBytes = 0;

  /** `keepBytes` bounds what the pool holds over all sizes, so memory stays flat however long the file. */
  constructor(private readonly keepBytes: number) {}

  /** A buffer of at least `length` bytes; its length is a power of two, at least 64 KiB. */
  take(length: number): Uint8Array {
    let size = 1 << 16;
    while (size < length) size *= 2;
    const pooled = this.free.get(size)?.pop();
    if (pooled === undefined) return uninitialized(size);
    this.keptBytes -= size;
    return pooled;
  }

  give(buffer: Uint8Array): void {
    // Only sizes take() hands out are kept.
    if (buffer.length < 1 << 16 || (buffer.length & (buffer.length - 1)) !== 0) return;
    if (this.keptBytes + buffer.length > this.keepBytes) return;
    let list = this.free.get(buffer.length);
    if (list === undefined) this.free.set(buffer.length, (list = []));
    list.push(buffer);
    this.keptBytes += buffer.length;
  }
}

export class ByteWriter {
  buffer: Uint8Array;
  length = 0;

  constructor(capacity = 1024) {
    this.buffer = uninitialized(capacity);
  }

  /** Makes room for `extra` more bytes. */
  reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.buffer.length) return;
    let capacity = this.buffer.length * 2;
    while (capacity < needed) capacity *= 2;
    const grown = uninitialized(capacity);
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }

  reset(): void {
    this.length = 0;
  }

  /** Hands over what was written, without a copy, and starts over in `next`. */
  detach(next: Uint8Array): Uint8Array {
    const written = this.buffer.subarray(0, this.length);
    this.buffer = next;
    this.length = 0;
    return written;
  }

  byte(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  bytes(data: Uint8Array): void {
    this.reserve(data.length);
    this.buffer.set(data, this.length);
    this.length += data.length;
  }

  uint32(value: number): void {
    this.reserve(4);
    const b = this.buffer;
    const at = this.length;
    b[at] = value & 0xff;
    b[at + 1] = (value >>> 8) & 0xff;
    b[at + 2] = (value >>> 16) & 0xff;
    b[at + 3] = (value >>> 24) & 0xff;
    this.length = at + 4;
  }

  /** Unsigned LEB128; exact for any non-negative integer up to 2^53. */
  varint(value: number): void {
    this.reserve(10);
    const b = this.buffer;
    let at = this.length;
    while (value >= 0x80) {
      b[at++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    b[at++] = value;
    this.length = at;
  }

  /** A copy of what was written, sized exactly. */
  toBytes(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }

  view(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }
}

const textEncoder = new TextEncoder();

/**
 * Appends `text` as UTF-8 and returns the byte count. Short strings are encoded inline because
 * a call into the native encoder costs more than the loop; lone surrogates become U+FFFD, as
 * TextEncoder does.
 */
export function writeUtf8(out: ByteWriter, text: string): number {
  const n = text.length;
  out.reserve(n * 3);
  const b = out.buffer;
  const start = out.length;
  if (n > 48) {
    const { written } = textEncoder.encodeInto(text, b.subarray(start));
    out.length = start + written;
    return written;
  }
  let at = start;
  for (let i = 0; i < n; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      b[at++] = c;
    } else if (c < 0x800) {
      b[at++] = 0xc0 | (c >> 6);
      b[at++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < n ? text.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
        b[at++] = 0xf0 | (c >> 18);
        b[at++] = 0x80 | ((c >> 12) & 0x3f);
        b[at++] = 0x80 | ((c >> 6) & 0x3f);
        b[at++] = 0x80 | (c & 0x3f);
      } else {
        b[at++] = 0xef;
        b[at++] = 0xbf;
        b[at++] = 0xbd;
      }
    } else {
      b[at++] = 0xe0 | (c >> 12);
      b[at++] = 0x80 | ((c >> 6) & 0x3f);
      b[at++] = 0x80 | (c & 0x3f);
    }
  }
  out.length = at;
  return at - start;
}

export function utf8Bytes(text: string): Uint8Array {
  return textEncoder.encode(text);
}
