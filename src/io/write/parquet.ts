// Parquet output written directly, row group by row group, through a file write stream: memory
// holds one row group's input, one encoded page and what the stream has yet to write (4 MiB
// at most), whatever the file's size. Every column is OPTIONAL; numbers and booleans are PLAIN,
// strings dictionary-encoded when they repeat enough; pages are data page v1, compressed with
// Snappy where it pays.
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Batch, Column } from '../../core/types.js';
import { cellText, type OutputColumn, type TableWriter } from './writer.js';
import { removeQuietly } from './streams.js';
import { encodeChunk, Scratch, type ColumnValues, type Page, type PhysicalType } from './parquet/column.js';
import {
  Codec, dataPageHeader, dictionaryPageHeader, fileMetaData,
  type CodecId, type ColumnChunkMeta, type ParquetField, type RowGroupMeta,
} from './parquet/metadata.js';
import { maxCompressedLength, snappyCompressInto } from './parquet/snappy.js';
import { BufferPool } from './parquet/bytes.js';

export interface ParquetWriterOptions {
  /** Page compression; default snappy. */
  readonly compression?: 'snappy' | 'uncompressed';
  /**
   * With snappy, a column chunk is stored uncompressed when a sample of its first data page
   * does not shrink by at least 1/8 (random doubles, for instance); true compresses every chunk.
   */
  readonly alwaysCompress?: boolean;
  /**
   * Smaller batches are gathered until a row group holds at least this many rows; a batch this
   * large, or half this large with nothing gathered, is written as a row group of its own.
   * Default 65536.
   */
  readonly rowGroupRows?: number;
}

export const DEFAULT_ROW_GROUP_ROWS = 65536;

const NARROW_INTEGERS = /^(TINYINT|SMALLINT|INTEGER|UTINYINT|USMALLINT|Int8|Int16|Int32|Uint8|Uint16)$/;
const SINGLE_FLOATS = /^(FLOAT|Float32)$/;
const MAGIC = new TextEncoder().encode('PAR1');
const CREATED_BY = 'datawarden';

/** How a column is stored: the same physical types the Arrow writer picks. */
export function parquetFieldOf(column: OutputColumn): ParquetField {
  switch (column.type) {
    case 'int': return { name: column.name, type: NARROW_INTEGERS.test(column.sourceType) ? 'INT32' : 'INT64', logical: null };
    case 'float': return { name: column.name, type: SINGLE_FLOATS.test(column.sourceType) ? 'FLOAT' : 'DOUBLE', logical: null };
    case 'timestamp': return { name: column.name, type: 'INT64', logical: 'TIMESTAMP' };
    case 'bool': return { name: column.name, type: 'BOOLEAN', logical: null };
    default: return { name: column.name, type: 'BYTE_ARRAY', logical: 'STRING' };
  }
}

type Kind = ColumnValues['kind'];

function kindOf(type: PhysicalType): Kind {
  return type === 'BYTE_ARRAY' ? 'string' : type === 'BOOLEAN' ? 'bool' : 'number';
}

/** A batch column as the declared kind; batches normally already match their writer's columns. */
function valuesOf(column: Column, kind: Kind, rows: number): ColumnValues {
  const valid = column.valid;
  if (kind === 'string') {
    if (column.type === 'string') return { kind, values: column.values, valid };
    const values = new Array<string>(rows);
    for (let i = 0; i < rows; i++) values[i] = cellText(column, i) ?? '';
    return { kind, values, valid };
  }
  if (column.type === 'string') throw new Error(`parquet: column ${column.name} holds text but is declared ${kind === 'bool' ? 'bool' : 'numeric'}`);
  if (kind === 'bool') {
    if (column.type === 'bool') return { kind, values: column.values, valid };
    const values = new Uint8Array(rows);
    for (let i = 0; i < rows; i++) values[i] = column.values[i] !== 0 ? 1 : 0;
    return { kind, values, valid };
  }
  if (column.type === 'bool') return { kind, values: Float64Array.from(column.values.subarray(0, rows)), valid };
  return { kind, values: column.values, valid, exact: column.exact ?? null };
}

/** Rows of small batches, copied until they make a row group. */
class PendingColumn {
  private numbers = new Float64Array(0);
  /** Exact int64 values, kept from the first batch that brings them until the group is taken. */
  private exact: BigInt64Array | null = null;
  private bools = new Uint8Array(0);
  private strings: string[] = [];
  private valid = new Uint8Array(0);
  private anyNull = false;

  constructor(private readonly kind: Kind) {}

  private grow(needed: number): void {
    if (this.valid.length >= needed) return;
    const capacity = Math.max(needed, this.valid.length * 2, 1024);
    const valid = new Uint8Array(capacity);
    valid.set(this.valid);
    this.valid = valid;
    if (this.kind === 'number') {
      const numbers = new Float64Array(capacity);
      numbers.set(this.numbers);
      this.numbers = numbers;
      if (this.exact !== null) {
        const exact = new BigInt64Array(capacity);
        exact.set(this.exact);
        this.exact = exact;
      }
    } else if (this.kind === 'bool') {
      const bools = new Uint8Array(capacity);
      bools.set(this.bools);
      this.bools = bools;
    }
  }

  append(source: ColumnValues, at: number, rows: number): void {
    this.grow(at + rows);
    if (source.valid === null) {
      this.valid.fill(1, at, at + rows);
    } else {
      this.valid.set(source.valid.subarray(0, rows), at);
      if (!this.anyNull) for (let i = 0; i < rows; i++) if (source.valid[i] === 0) this.anyNull = true;
    }
    if (source.kind === 'number') {
      this.numbers.set(source.values.subarray(0, rows), at);
      if (source.exact && this.exact === null) {
        // The rows before came without exact values: all below 2^53, so their doubles are exact.
        this.exact = new BigInt64Array(this.numbers.length);
        this.fillExact(0, at);
      }
      if (source.exact) this.exact!.set(source.exact.subarray(0, rows), at);
      else if (this.exact !== null) this.fillExact(at, at + rows);
    } else if (source.kind === 'bool') this.bools.set(source.values.subarray(0, rows), at);
    else for (let i = 0; i < rows; i++) this.strings[at + i] = source.values[i]!;
  }

  private fillExact(from: number, to: number): void {
    for (let i = from; i < to; i++) {
      const v = this.numbers[i]!;
      this.exact![i] = this.valid[i] === 1 && Number.isFinite(v) ? BigInt(Math.round(v)) : 0n;
    }
  }

  /** The gathered rows; valid until the next append. */
  take(rows: number): ColumnValues {
    const valid = this.anyNull ? this.valid.subarray(0, rows) : null;
    this.anyNull = false;
    if (this.kind === 'number') {
      const exact = this.exact?.subarray(0, rows) ?? null;
      this.exact = null;
      return { kind: 'number', values: this.numbers.subarray(0, rows), valid, exact };
    }
    if (this.kind === 'bool') return { kind: 'bool', values: this.bools.subarray(0, rows), valid };
    const strings = this.strings;
    this.strings = [];
    strings.length = rows;
    return { kind: 'string', values: strings, valid };
  }
}

/** Sequential writes to a file stream, waiting whenever the stream's buffer is full. */
class FileOutput {
  position = 0;
  private failure: Error | null = null;

  constructor(readonly stream: WriteStream) {
    stream.on('error', (error) => {
      this.failure ??= error;
    });
  }

  /** Queues `chunk`; `written` runs once the stream is done with it. */
  async write(chunk: Uint8Array, written?: () => void): Promise<void> {
    if (this.failure !== null) throw this.failure;
    if (this.stream.destroyed) throw new Error('parquet: the output stream is closed');
    this.position += chunk.length;
    const queued = written === undefined ? this.stream.write(chunk) : this.stream.write(chunk, (error) => {
      // A failed write may still be reading the chunk; let the collector have it instead.
      if (!error) written();
    });
    if (!queued) await this.drained();
  }

  /** Resolves on 'drain', or on 'close' so a stream destroyed meanwhile cannot leave us waiting. */
  private async drained(): Promise<void> {
    const stream = this.stream;
    await new Promise<void>((resolve) => {
      const done = () => {
        stream.off('drain', done);
        stream.off('close', done);
        resolve();
      };
      stream.on('drain', done);
      stream.on('close', done);
    });
    if (this.failure !== null) throw this.failure;
  }

  async end(): Promise<void> {
    if (this.failure === null && !this.stream.closed) {
      const closed = once(this.stream, 'close').catch(() => undefined);
      this.stream.end();
      await closed;
    }
    if (this.failure !== null) throw this.failure;
  }

  async destroy(): Promise<void> {
    if (this.stream.closed) return;
    const closed = once(this.stream, 'close').catch(() => undefined);
    this.stream.destroy();
    await closed;
  }
}

/** Bytes sampled from a page to decide whether compressing its chunk pays. */
const PROBE_BYTES = 16384;
/** Snappy is kept when the sample shrinks to at most this share of its size. */
const PROBE_KEEP_RATIO = 0.875;
/** After a sample fails, this many later chunks of the column skip sampling (doubling up to the cap). */
const MAX_PROBE_BACKOFF = 32;

class ParquetFileWriter implements TableWriter {
  private readonly fields: ParquetField[];
  private readonly kinds: Kind[];
  private readonly pending: PendingColumn[];
  private pendingRows = 0;
  private readonly rowGroups: RowGroupMeta[] = [];
  private readonly scratch = new Scratch();
  private readonly pool = new BufferPool(8 << 20);
  private compressed = new Uint8Array(0);
  private readonly probeSkip: number[];
  private readonly probeBackoff: number[];
  private readonly rowGroupRows: number;
  private state: 'open' | 'closed' | 'aborted' = 'open';

  constructor(
    private readonly path: string,
    columns: readonly OutputColumn[],
    private readonly out: FileOutput,
    private readonly options: ParquetWriterOptions,
  ) {
    this.fields = columns.map(parquetFieldOf);
    this.kinds = this.fields.map((f) => kindOf(f.type));
    this.pending = this.kinds.map((kind) => new PendingColumn(kind));
    this.probeSkip = this.fields.map(() => 0);
    this.probeBackoff = this.fields.map(() => 0);
    this.rowGroupRows = Math.max(1, options.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS);
  }

  async write(batch: Batch): Promise<void> {
    if (this.state !== 'open') throw new Error(`parquet: write after the writer was ${this.state}`);
    const rows = batch.rowCount;
    if (rows === 0) return;
    if (batch.columns.length !== this.fields.length) {
      throw new Error(`parquet: batch has ${batch.columns.length} columns, the file ${this.fields.length}`);
    }
    const values = batch.columns.map((column, c) => valuesOf(column, this.kinds[c]!, rows));
    // Large batches go out as they are, without a copy. So does a batch of at least half a row
    // group when nothing is pending: the clean rows of a full input batch, a little short of
    // one, would otherwise be copied only to be written out with the next batch's first rows.
    if (rows >= this.rowGroupRows || (this.pendingRows === 0 && rows * 2 >= this.rowGroupRows)) {
      await this.flushPending();
      await this.writeRowGroup(values, rows);
      return;
    }
    for (let c = 0; c < values.length; c++) this.pending[c]!.append(values[c]!, this.pendingRows, rows);
    this.pendingRows += rows;
    if (this.pendingRows >= this.rowGroupRows) await this.flushPending();
  }

  async close(): Promise<void> {
    if (this.state !== 'open') throw new Error(`parquet: close after the writer was ${this.state}`);
    this.state = 'closed';
    await this.flushPending();
    const footer = fileMetaData(this.fields, this.rowGroups, CREATED_BY);
    const tail = new Uint8Array(footer.length + 8);
    tail.set(footer);
    new DataView(tail.buffer).setUint32(footer.length, footer.length, true);
    tail.set(MAGIC, footer.length + 4);
    await this.out.write(tail);
    await this.out.end();
  }

  async abort(): Promise<void> {
    this.state = 'aborted';
    await this.out.destroy();
    await removeQuietly(this.path);
  }

  private async flushPending(): Promise<void> {
    if (this.pendingRows === 0) return;
    const rows = this.pendingRows;
    this.pendingRows = 0;
    await this.writeRowGroup(this.pending.map((p) => p.take(rows)), rows);
  }

  private async writeRowGroup(values: readonly ColumnValues[], rows: number): Promise<void> {
    const fileOffset = this.out.position;
    const columns: ColumnChunkMeta[] = [];
    for (let c = 0; c < values.length; c++) columns.push(await this.writeChunk(c, values[c]!, rows));
    this.rowGroups.push({
      columns,
      rows,
      fileOffset,
      uncompressedSize: columns.reduce((sum, chunk) => sum + chunk.uncompressedSize, 0),
      compressedSize: columns.reduce((sum, chunk) => sum + chunk.compressedSize, 0),
    });
  }

  private async writeChunk(c: number, values: ColumnValues, rows: number): Promise<ColumnChunkMeta> {
    const field = this.fields[c]!;
    const pages = encodeChunk(this.scratch, field.type, values, rows);
    let codec: CodecId | null = null;
    let dictionary: Page | null = null;
    let dictionaryPageOffset: number | null = null;
    let dataPageOffset = -1;
    const sizes = { uncompressed: 0, compressed: 0 };
    for (;;) {
      const next = pages.next();
      if (next.done) {
        return {
          type: field.type,
          path: field.name,
          encodings: next.value.encodings,
          codec: codec ?? Codec.UNCOMPRESSED,
          valueCount: rows,
          uncompressedSize: sizes.uncompressed,
          compressedSize: sizes.compressed,
          dataPageOffset,
          dictionaryPageOffset,
          statistics: next.value.statistics,
        };
      }
      const page = next.value;
      if (page.kind === 'dictionary') {
        // Held until the first data page has chosen the chunk's codec.
        dictionary = { ...page, body: page.body.slice() };
        continue;
      }
      if (codec === null) {
        codec = this.codecFor(c, page.body);
        if (dictionary !== null) {
          dictionaryPageOffset = this.out.position;
          await this.writePage(dictionary, codec, sizes);
          dictionary = null;
        }
        dataPageOffset = this.out.position;
      }
      await this.writePage(page, codec, sizes);
    }
  }

  private codecFor(c: number, body: Uint8Array): CodecId {
    if (this.options.compression === 'uncompressed') return Codec.UNCOMPRESSED;
    if (this.options.alwaysCompress) return Codec.SNAPPY;
    if (this.probeSkip[c]! > 0) {
      this.probeSkip[c]!--;
      return Codec.UNCOMPRESSED;
    }
    const from = Math.max(0, (body.length - PROBE_BYTES) >> 1);
    const sample = body.subarray(from, from + PROBE_BYTES);
    const size = snappyCompressInto(sample, this.compressionBuffer(sample.length));
    if (size <= sample.length * PROBE_KEEP_RATIO) {
      this.probeBackoff[c] = 0;
      return Codec.SNAPPY;
    }
    this.probeBackoff[c] = Math.min(MAX_PROBE_BACKOFF, Math.max(1, this.probeBackoff[c]! * 2));
    this.probeSkip[c] = this.probeBackoff[c]!;
    return Codec.UNCOMPRESSED;
  }

  private compressionBuffer(length: number): Uint8Array {
    const needed = maxCompressedLength(length);
    if (this.compressed.length < needed) this.compressed = new Uint8Array(Math.max(needed, this.compressed.length * 2));
    return this.compressed;
  }

  private async writePage(page: Page, codec: CodecId, sizes: { uncompressed: number; compressed: number }): Promise<void> {
    const body = page.body;
    // What goes to the stream must stay untouched until written, while scratch is reused: a
    // page is compressed into a pooled buffer, or the scratch page is taken over (a small one
    // copied), and pooled memory returns to the pool once the stream has written it.
    let payload: Uint8Array;
    let pooled: Uint8Array | null = null;
    if (codec === Codec.SNAPPY) {
      pooled = this.pool.take(maxCompressedLength(body.length));
      payload = pooled.subarray(0, snappyCompressInto(body, pooled));
    } else if (this.scratch.isLargeBody(body)) {
      pooled = this.scratch.body.buffer;
      payload = this.scratch.body.detach(this.pool.take(pooled.length));
    } else {
      payload = body.slice();
    }
    const header = page.kind === 'dictionary'
      ? dictionaryPageHeader(body.length, payload.length, page.count, page.encoding)
      : dataPageHeader(body.length, payload.length, page.count, page.encoding);
    sizes.uncompressed += header.length + body.length;
    sizes.compressed += header.length + payload.length;
    await this.out.write(header);
    const release = pooled;
    await this.out.write(payload, release === null ? undefined : () => this.pool.give(release));
  }
}

/**
 * Opens `path` for writing Parquet (replacing any file there); rejects when it cannot be
 * created. A file closed without rows holds the schema and no row groups.
 */
export async function openParquetWriter(
  path: string, columns: readonly OutputColumn[], options: ParquetWriterOptions = {},
): Promise<TableWriter> {
  // Up to 4 MiB may wait in the stream, so encoding goes on while the disk catches up.
  const stream = createWriteStream(path, { highWaterMark: 4 << 20 });
  const out = new FileOutput(stream);
  await once(stream, 'open');
  await out.write(MAGIC);
  return new ParquetFileWriter(path, columns, out, options);
}
