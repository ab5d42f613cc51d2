// Content fingerprints of rows, independent of the file they came from: the same values give
// the same fingerprint whether read from Parquet, Arrow, CSV or JSON Lines, in any column order.
//
// A row's canonical bytes are a 16-byte digest of the feature column names, then each feature
// column in sorted name order (UTF-16 code units) as one tagged cell:
//   null (absent, invalid or unreadable)  0x00
//   int or float                          0x01 + float64 little-endian (-0 as 0, one NaN)
//   timestamp (epoch microseconds)        0x02 + float64 little-endian
//   string                                0x03 + uint32 little-endian byte length + UTF-8 bytes
//   bool                                  0x04 + 0x00 or 0x01
// The features fingerprint is the first 16 bytes of sha256(canonical bytes). The label is kept
// out of it, so a replayed row with a flipped label still matches. The with-label fingerprint is
// the features fingerprint XOR the first 16 bytes of sha256("datawarden-label/1" + label cell):
// one sha256 per row, as labels repeat and their digests are cached.
import { createHash, hash as oneShotHash } from 'node:crypto';
import type { Contract } from '../core/contract.js';
import type { Batch, Column } from '../core/types.js';
import { canonicalJson } from './canonical-json.js';

export const FINGERPRINT_BYTES = 16;

export interface FingerprintSpec {
  /** Columns hashed, sorted by name. */
  readonly features: readonly string[];
  /** XORed in for the with-label fingerprint; null when the contract names no label. */
  readonly label: string | null;
}

/**
 * The contract's columns minus the label, the row id, the source column and `provenance.replayIgnore`:
 * a replayed row arrives with a new id, through another feed, at another time.
 */
export function fingerprintSpec(contract: Contract, ignore: readonly string[] = []): FingerprintSpec {
  const left = new Set([contract.label, contract.id, contract.source, ...ignore].filter((name): name is string => name !== undefined));
  const features = contract.columns.map((column) => column.name).filter((name) => !left.has(name)).sort();
  return { features, label: contract.label ?? null };
}

/** Fingerprints of one batch: row r's fingerprints are bytes [16r, 16r + 16) of each array. */
export interface BatchFingerprints {
  readonly rowCount: number;
  readonly features: Uint8Array;
  readonly withLabel: Uint8Array;
}

// "binary" is latin1: one character per digest byte, the cheapest output crypto.hash offers.
const sha256Latin1: (data: Uint8Array) => string =
  typeof oneShotHash === 'function'
    ? (data) => oneShotHash('sha256', data, 'binary')
    : (data) => createHash('sha256').update(data).digest('binary');

const TAG_NULL = 0;
const TAG_NUMBER = 1;
const TAG_TIMESTAMP = 2;
const TAG_STRING = 3;
const TAG_BOOL = 4;

/** Bytes a cell can take at most, so one check per batch replaces one per cell. */
function maxCellBytes(column: Column | undefined, row: number): number {
  return column?.type === 'string' ? 5 + column.values[row]!.length * 3 : 9;
}

export class RowFingerprinter {
  readonly spec: FingerprintSpec;
  private readonly specDigest: Buffer;
  private buffer: Buffer;
  private view: DataView;
  /** Label digests by value, one map per kind of value; labels are few. */
  private readonly stringLabels = new Map<string, Uint8Array>();
  private readonly numberLabels = new Map<number, Uint8Array>();
  private readonly otherLabels = new Map<string, Uint8Array>();

  constructor(spec: FingerprintSpec) {
    this.spec = spec;
    this.specDigest = createHash('sha256')
      .update(canonicalJson({ format: 'datawarden-row/1', features: [...spec.features] }))
      .digest()
      .subarray(0, FINGERPRINT_BYTES);
    this.buffer = Buffer.allocUnsafeSlow(1 << 16);
    this.view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.byteLength);
  }

  private reserve(bytes: number): void {
    if (bytes <= this.buffer.length) return;
    let size = this.buffer.length;
    while (size < bytes) size *= 2;
    this.buffer = Buffer.allocUnsafeSlow(size);
    this.view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.byteLength);
  }

  /** Writes one cell's canonical bytes at `offset` (space reserved by the caller); returns the new offset. */
  private writeCell(column: Column | undefined, row: number, offset: number): number {
    const buffer = this.buffer;
    if (
      column === undefined ||
      (column.valid !== null && column.valid[row] !== 1) ||
      (column.bad !== null && column.bad[row] === 1)
    ) {
      buffer[offset] = TAG_NULL;
      return offset + 1;
    }
    switch (column.type) {
      case 'string': {
        const text = column.values[row]!;
        buffer[offset] = TAG_STRING;
        let at = offset + 5;
        // Short ASCII text is copied in JS, which beats a native call per cell; anything else is encoded by Buffer.
        let ascii = text.length <= 64;
        for (let i = 0; ascii && i < text.length; i++) {
          const code = text.charCodeAt(i);
          if (code >= 0x80) ascii = false;
          else buffer[at + i] = code;
        }
        const written = ascii ? text.length : buffer.write(text, at, 'utf8');
        at += written;
        this.view.setUint32(offset + 1, written, true);
        return at;
      }
      case 'bool':
        buffer[offset] = TAG_BOOL;
        buffer[offset + 1] = column.values[row] === 1 ? 1 : 0;
        return offset + 2;
      default: {
        const value = column.values[row]!;
        buffer[offset] = column.type === 'timestamp' ? TAG_TIMESTAMP : TAG_NUMBER;
        // `value + 0` turns -0 into 0; NaN is written as the one quiet NaN DataView produces.
        this.view.setFloat64(offset + 1, Number.isNaN(value) ? Number.NaN : value + 0, true);
        return offset + 9;
      }
    }
  }

  private labelDigest(column: Column | undefined, row: number): Uint8Array {
    const isNull = column === undefined || (column.valid !== null && column.valid[row] !== 1) || (column.bad !== null && column.bad[row] === 1);
    let map: Map<string, Uint8Array> | Map<number, Uint8Array>;
    let key: string | number;
    if (isNull) [map, key] = [this.otherLabels, 'null'];
    else if (column.type === 'string') [map, key] = [this.stringLabels, column.values[row]!];
    else if (column.type === 'bool') [map, key] = [this.otherLabels, column.values[row] === 1 ? 'true' : 'false'];
    else [map, key] = column.type === 'timestamp' ? [this.otherLabels, `t${column.values[row]}`] : [this.numberLabels, column.values[row]! + 0];
    const cached = (map as Map<string | number, Uint8Array>).get(key);
    if (cached) return cached;
    this.reserve(maxCellBytes(column, row));
    const end = this.writeCell(column, row, 0);
    const digest = createHash('sha256').update('datawarden-label/1').update(this.buffer.subarray(0, end)).digest().subarray(0, FINGERPRINT_BYTES);
    // Bounded: a label column with endless distinct values (a regression target) is hashed each time.
    if (map.size < 4096) (map as Map<string | number, Uint8Array>).set(key, digest);
    return digest;
  }

  fingerprintBatch(batch: Batch): BatchFingerprints {
    const rowCount = batch.rowCount;
    const columns = this.spec.features.map((name) => batch.byName.get(name));
    const labelColumn = this.spec.label === null ? undefined : batch.byName.get(this.spec.label);
    const features = new Uint8Array(rowCount * FINGERPRINT_BYTES);
    const withLabel = new Uint8Array(rowCount * FINGERPRINT_BYTES);
    // Encode the whole batch into one buffer first, then hash each row's slice.
    let bound = rowCount * FINGERPRINT_BYTES;
    for (const column of columns) {
      if (column?.type !== 'string') bound += rowCount * 9;
      else for (let row = 0; row < rowCount; row++) bound += maxCellBytes(column, row);
    }
    this.reserve(bound);
    const ends = new Uint32Array(rowCount);
    let offset = 0;
    for (let row = 0; row < rowCount; row++) {
      this.specDigest.copy(this.buffer, offset);
      offset += FINGERPRINT_BYTES;
      for (let c = 0; c < columns.length; c++) offset = this.writeCell(columns[c], row, offset);
      ends[row] = offset;
    }
    const encoded = this.buffer;
    let start = 0;
    for (let row = 0; row < rowCount; row++) {
      const digest = sha256Latin1(encoded.subarray(start, ends[row]!));
      start = ends[row]!;
      const base = row * FINGERPRINT_BYTES;
      for (let i = 0; i < FINGERPRINT_BYTES; i++) features[base + i] = digest.charCodeAt(i);
    }
    // Label digests may reuse the encoding buffer, so they come after the rows are hashed.
    for (let row = 0; row < rowCount; row++) {
      const label = this.spec.label === null ? null : this.labelDigest(labelColumn, row);
      const base = row * FINGERPRINT_BYTES;
      for (let i = 0; i < FINGERPRINT_BYTES; i++) withLabel[base + i] = label === null ? features[base + i]! : features[base + i]! ^ label[i]!;
    }
    return { rowCount, features, withLabel };
  }
}

/** A fingerprint as 32 lowercase hex characters. */
export function fingerprintHex(bytes: Uint8Array, row: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + row * FINGERPRINT_BYTES, FINGERPRINT_BYTES).toString('hex');
}

/** The high and low 32-bit words of a fingerprint's first 8 bytes (big-endian), for table keys. */
export function keyWords(bytes: Uint8Array, row: number): [hi: number, lo: number] {
  const base = row * FINGERPRINT_BYTES;
  const hi = ((bytes[base]! << 24) | (bytes[base + 1]! << 16) | (bytes[base + 2]! << 8) | bytes[base + 3]!) >>> 0;
  const lo = ((bytes[base + 4]! << 24) | (bytes[base + 5]! << 16) | (bytes[base + 6]! << 8) | bytes[base + 7]!) >>> 0;
  return [hi, lo];
}

export interface RowFingerprint {
  /** Hex features fingerprint (label left out). */
  readonly features: string;
  /** Hex with-label fingerprint. */
  readonly withLabel: string;
}

/** Fingerprints of chosen rows of a batch, e.g. the rows a reviewer confirmed as poisoned. */
export function fingerprintRows(fingerprinter: RowFingerprinter, batch: Batch, rows: readonly number[]): RowFingerprint[] {
  const all = fingerprinter.fingerprintBatch(batch);
  return rows.map((row) => {
    if (!Number.isInteger(row) || row < 0 || row >= batch.rowCount) throw new RangeError(`row ${row} is not in the batch (0-${batch.rowCount - 1})`);
    return { features: fingerprintHex(all.features, row), withLabel: fingerprintHex(all.withLabel, row) };
  });
}
