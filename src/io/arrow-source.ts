// Arrow IPC files (.arrow, .feather) and streams (.arrows) through apache-arrow's async reader.
// apache-arrow reports truncation as TypeErrors deep in its decoder; every failure here is
// rewritten into one line naming the file.
import { open, type FileHandle } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import {
  makeVector, MessageReader, RecordBatchReader, Type, type Data, type DataType, type Field, type RecordBatch,
} from 'apache-arrow';
import type { InputColumn, InputShape } from '../core/check.js';
import { InputError, firstLine } from '../core/errors.js';
import { exactIntegers, makeBatch, makeColumn, sliceBatch, type Batch, type Column, type LogicalType } from '../core/types.js';
import type { Format } from './formats.js';
import { assertRowCount, type ReadMode, type ReadOptions, type RowRange, type Source } from './source.js';

const NESTED = new Set<Type>([Type.List, Type.FixedSizeList, Type.Struct, Type.Map, Type.Union, Type.DenseUnion, Type.SparseUnion]);

/** The logical type an Arrow type reads as, or null when nested. */
export function logicalTypeOfArrow(type: DataType): LogicalType | null {
  const id = type.typeId === Type.Dictionary ? (type as unknown as { valueType: DataType }).valueType.typeId : type.typeId;
  if (NESTED.has(id)) return null;
  switch (id) {
    case Type.Bool: return 'bool';
    case Type.Int: return 'int';
    case Type.Float:
    case Type.Decimal: return 'float';
    case Type.Timestamp:
    case Type.Date: return 'timestamp';
    default: return 'string';
  }
}

function readFailure(path: string, error: unknown): InputError {
  if (error instanceof InputError) return error;
  return new InputError(`corrupt or truncated Arrow IPC data: ${firstLine(error)}`, { subject: path, cause: error });
}

// The IPC stream ends with an end-of-stream marker (0xFFFFFFFF then a zero length); without it
// the writer stopped early and the reader would return the batches before the cut as if whole.
async function assertStreamComplete(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const tail = Buffer.alloc(8);
    if (size >= 8) await handle.read(tail, 0, 8, size - 8);
    if (size < 8 || tail.readUInt32LE(0) !== 0xffffffff || tail.readUInt32LE(4) !== 0) {
      throw new InputError('truncated Arrow IPC stream: it does not end with the end-of-stream marker', { subject: path });
    }
  } finally {
    await handle.close();
  }
}

/** Checks an IPC file's magic at both ends (a cut file loses the one at its end) without reading it. */
async function assertFileComplete(handle: FileHandle, path: string): Promise<void> {
  const { size } = await handle.stat();
  const head = Buffer.alloc(6);
  const tail = Buffer.alloc(6);
  if (size >= 12) {
    await handle.read(head, 0, 6, 0);
    await handle.read(tail, 0, 6, size - 6);
  }
  if (size < 12 || head.toString('latin1') !== 'ARROW1' || tail.toString('latin1') !== 'ARROW1') {
    throw new InputError('not an Arrow IPC file, or truncated: missing the ARROW1 magic at its start or end', { subject: path });
  }
}

/** A reader and what it reads from; the handle (IPC files) is closed with the source. */
interface OpenReader {
  readonly reader: RecordBatchReader;
  readonly handle?: FileHandle;
}

async function openReader(path: string, format: Format): Promise<OpenReader> {
  let handle: FileHandle | undefined;
  try {
    if (format === 'arrows') {
      await assertStreamComplete(path);
      const reader = await RecordBatchReader.from(createReadStream(path));
      return { reader: await reader.open() };
    }
    // The file format is read through its footer, one record batch at a time from the handle:
    // memory holds a batch, not the file.
    handle = await open(path, 'r');
    await assertFileComplete(handle, path);
    const reader = await RecordBatchReader.from(handle);
    return { reader: await reader.open(), handle };
  } catch (error) {
    await handle?.close().catch(() => undefined);
    throw readFailure(path, error);
  }
}

export async function openArrowSource(path: string, format: Format, mode: ReadMode): Promise<Source> {
  const { reader, handle } = await openReader(path, format);
  let columns: InputColumn[];
  // A file's footer locates its record batches, and each batch's header gives its rows: the
  // declared count the read is held against, and what lets a range read only its batches. A
  // stream declares nothing; its end-of-stream marker catches truncation.
  let batchRows: number[] | null;
  try {
    columns = reader.schema.fields.map((field: Field) => {
      const type = logicalTypeOfArrow(field.type);
      if (type === null) throw new InputError(`unsupported: nested column ${field.name} (${String(field.type)})`, { subject: path });
      return { name: field.name, type, sourceType: String(field.type) };
    });
    batchRows = handle === undefined ? null : await recordBatchRows(reader, handle, path);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    throw readFailure(path, error);
  }
  const declaredRows = batchRows === null ? null : batchRows.reduce((sum, rows) => sum + rows, 0);
  const shape: InputShape = { path, format, columns, declaredRows };
  let consumed = false;
  return {
    path, format, mode, shape, engine: 'arrow',
    batches: (options) => {
      if (consumed) throw new Error('an Arrow source streams once; open it again to re-read');
      consumed = true;
      if (options?.range && batchRows !== null) return readRange(reader, batchRows, shape, options.range);
      return streamBatches(reader as AsyncIterable<RecordBatch> & RecordBatchReader, shape, options);
    },
    close: async () => {
      await Promise.resolve(reader.cancel()).catch(() => undefined);
      await handle?.close().catch(() => undefined);
    },
  };
}

/** Rows of each record batch of an Arrow IPC file (a range reads only the batches it overlaps). */
export async function arrowFileBatchRows(path: string): Promise<number[]> {
  const { reader, handle } = await openReader(path, 'arrow');
  try {
    return await recordBatchRows(reader, handle!, path);
  } catch (error) {
    throw readFailure(path, error);
  } finally {
    await handle!.close().catch(() => undefined);
  }
}

/** Rows of each record batch of an IPC file, from the batch headers the footer points to. */
async function recordBatchRows(reader: RecordBatchReader, handle: FileHandle, path: string): Promise<number[]> {
  const footer = reader.footer;
  if (footer === null) throw new InputError('corrupt Arrow IPC file: no footer', { subject: path });
  const rows: number[] = [];
  for (let i = 0; i < footer.numRecordBatches; i++) {
    const block = footer.getRecordBatch(i)!;
    const header = Buffer.alloc(block.metaDataLength);
    const { bytesRead } = await handle.read(header, 0, header.length, Number(block.offset));
    const message = bytesRead === header.length ? new MessageReader(header).readMessage() : null;
    if (!message?.isRecordBatch()) throw new InputError(`corrupt Arrow IPC file: record batch ${i} has no readable header`, { subject: path });
    rows.push(Number(message.header().length));
  }
  return rows;
}

/** The rows of a range, reading only the record batches it overlaps. */
async function* readRange(reader: RecordBatchReader, batchRows: readonly number[], shape: InputShape, range: RowRange): AsyncGenerator<Batch> {
  let read = 0;
  for (let i = 0, first = 0; i < batchRows.length && first < range.end; first += batchRows[i]!, i++) {
    if (first + batchRows[i]! <= range.start) continue;
    let batch: Batch;
    try {
      const recordBatch = await reader.readRecordBatch(i);
      if (recordBatch === null || recordBatch.numRows !== batchRows[i]) throw new InputError(`record batch ${i} does not hold the ${batchRows[i]} rows its header declares`);
      batch = toBatch(recordBatch, shape, first);
    } catch (error) {
      throw readFailure(shape.path, error);
    }
    const from = Math.max(0, range.start - first);
    const to = Math.min(batch.rowCount, range.end - first);
    read += to - from;
    yield sliceBatch(batch, from, to);
  }
  assertRowCount(shape.path, shape.declaredRows, read, range);
}

function toBatch(recordBatch: RecordBatch, shape: InputShape, rowOffset: number): Batch {
  const columns = shape.columns.map((column, index) => arrowColumn(column, recordBatch.getChildAt(index)!.data));
  return makeBatch(rowOffset, recordBatch.numRows, columns);
}

async function* streamBatches(reader: AsyncIterable<RecordBatch>, shape: InputShape, options: ReadOptions = {}): AsyncGenerator<Batch> {
  // Arrow batches keep the writer's size; a range keeps the rows of each batch that fall in it.
  const { start, end } = options.range ?? { start: 0, end: Number.POSITIVE_INFINITY };
  let rowOffset = 0;
  const iterator = reader[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<RecordBatch>;
    try {
      next = await iterator.next();
    } catch (error) {
      throw readFailure(shape.path, error);
    }
    if (next.done) break;
    let batch: Batch;
    try {
      batch = toBatch(next.value, shape, rowOffset);
    } catch (error) {
      throw readFailure(shape.path, error);
    }
    rowOffset += batch.rowCount;
    const from = Math.max(0, start - batch.rowOffset);
    const to = Math.min(batch.rowCount, end - batch.rowOffset);
    if (to > from) yield sliceBatch(batch, from, to);
    if (rowOffset >= end) break;
  }
  if (options.range === undefined) assertRowCount(shape.path, shape.declaredRows, rowOffset);
}

/** Flattens the Data chunks of one column into one of our columns. */
function arrowColumn(column: InputColumn, chunks: readonly Data[]): Column {
  const length = chunks.reduce((sum, d) => sum + d.length, 0);
  const valid = new Uint8Array(length);
  let anyInvalid = false;
  let at = 0;
  for (const data of chunks) {
    for (let i = 0; i < data.length; i++) {
      const ok = data.getValid(i) ? 1 : 0;
      valid[at + i] = ok;
      if (ok === 0) anyInvalid = true;
    }
    at += data.length;
  }
  const present = anyInvalid ? valid : null;
  const type = column.type!;
  if (type === 'string') {
    const values = new Array<string>(length);
    at = 0;
    for (const data of chunks) {
      const vector = makeVectorView(data);
      for (let i = 0; i < data.length; i++, at++) values[at] = valid[at] === 1 ? stringOf(vector.get(i)) : '';
    }
    return makeColumn(column.name, column.sourceType, type, values, present, null);
  }
  if (type === 'bool') {
    const values = new Uint8Array(length);
    at = 0;
    for (const data of chunks) {
      const vector = makeVectorView(data);
      for (let i = 0; i < data.length; i++, at++) values[at] = vector.get(i) ? 1 : 0;
    }
    return makeColumn(column.name, column.sourceType, type, values, present, null);
  }
  const values = new Float64Array(length);
  at = 0;
  for (const data of chunks) {
    fillNumbers(data, values, at);
    at += data.length;
  }
  const exact = type === 'int' ? exactInt64(chunks, values, present) : null;
  return makeColumn(column.name, column.sourceType, type, values, present, null, undefined, exact);
}

/** An Int64 column's exact values when one passes 2^53, where its doubles are not exact. */
function exactInt64(chunks: readonly Data[], values: Float64Array, valid: Uint8Array | null): BigInt64Array | null {
  if (!chunks.every((data) => data.values instanceof BigInt64Array)) return null;
  const stored = new BigInt64Array(values.length);
  let at = 0;
  for (const data of chunks) {
    stored.set((data.values as BigInt64Array).subarray(0, data.length), at);
    at += data.length;
  }
  return exactIntegers(values, valid, (row) => stored[row]!);
}

interface ValueGetter {
  get(index: number): unknown;
}

function makeVectorView(data: Data): ValueGetter {
  return makeVector(data) as unknown as ValueGetter;
}

function stringOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  return String(value);
}

const MICROS_PER_UNIT = [1e6, 1e3, 1, 1e-3]; // TimeUnit SECOND, MILLISECOND, MICROSECOND, NANOSECOND

/** Numbers straight from the value buffers where the layout allows it. */
function fillNumbers(data: Data, out: Float64Array, at: number): void {
  const type = data.type as DataType & { unit?: number; bitWidth?: number; precision?: number };
  const raw = data.values as ArrayLike<number | bigint> | undefined;
  const n = data.length;
  switch (type.typeId) {
    case Type.Int: {
      if (raw instanceof BigInt64Array || raw instanceof BigUint64Array) {
        for (let i = 0; i < n; i++) out[at + i] = Number(raw[i]!);
      } else {
        for (let i = 0; i < n; i++) out[at + i] = raw![i] as number;
      }
      return;
    }
    case Type.Float: {
      if (raw instanceof Float64Array || raw instanceof Float32Array) {
        for (let i = 0; i < n; i++) out[at + i] = raw[i]!;
        return;
      }
      break; // half precision: let the vector decode it
    }
    case Type.Timestamp: {
      const scale = MICROS_PER_UNIT[type.unit!]!;
      const words = raw as BigInt64Array;
      for (let i = 0; i < n; i++) out[at + i] = Number(words[i]!) * scale;
      return;
    }
    case Type.Date: {
      // DateDay (unit 0) holds days in Int32; DateMillisecond (unit 1) holds milliseconds in Int64.
      if (type.unit === 0) {
        for (let i = 0; i < n; i++) out[at + i] = (raw![i] as number) * 86_400_000_000;
      } else {
        for (let i = 0; i < n; i++) out[at + i] = Number(raw![i]!) * 1000;
      }
      return;
    }
    default:
      break;
  }
  const vector = makeVectorView(data);
  for (let i = 0; i < n; i++) {
    const value = vector.get(i);
    out[at + i] = value === null || value === undefined ? 0 : Number(value);
  }
}
