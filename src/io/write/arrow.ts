// Arrow IPC file (.arrow) or stream (.arrows) through apache-arrow's writers.
import { createWriteStream } from 'node:fs';
import {
  Bool, Field, Float32, Float64, Int32, Int64, makeData, RecordBatch, RecordBatchFileWriter, RecordBatchStreamWriter,
  Schema, Struct, TimestampMicrosecond, Utf8, type Data, type DataType,
} from 'apache-arrow';
import type { Batch, Column } from '../../core/types.js';
import type { OutputColumn, TableWriter } from './writer.js';
import { removeQuietly } from './streams.js';

const NARROW_INTEGERS = /^(TINYINT|SMALLINT|INTEGER|UTINYINT|USMALLINT|Int8|Int16|Int32|Uint8|Uint16)$/;
const SINGLE_FLOATS = /^(FLOAT|Float32)$/;

export function arrowTypeOf(column: OutputColumn): DataType {
  switch (column.type) {
    case 'int': return NARROW_INTEGERS.test(column.sourceType) ? new Int32() : new Int64();
    case 'float': return SINGLE_FLOATS.test(column.sourceType) ? new Float32() : new Float64();
    case 'bool': return new Bool();
    case 'timestamp': return new TimestampMicrosecond();
    default: return new Utf8();
  }
}

function packBits(bytes: Uint8Array | null, length: number): Uint8Array | undefined {
  if (bytes === null) return undefined;
  const bits = new Uint8Array((length + 7) >> 3);
  for (let i = 0; i < length; i++) if (bytes[i] === 1) bits[i >> 3]! |= 1 << (i & 7);
  return bits;
}

function nullCountOf(valid: Uint8Array | null, length: number): number {
  if (valid === null) return 0;
  let nulls = 0;
  for (let i = 0; i < length; i++) if (valid[i] === 0) nulls++;
  return nulls;
}

const encoder = new TextEncoder();

function columnData(column: Column, type: DataType, length: number): Data {
  const nullBitmap = packBits(column.valid, length);
  const nullCount = nullCountOf(column.valid, length);
  if (column.type === 'string') {
    const valueOffsets = new Int32Array(length + 1);
    const parts: Uint8Array[] = [];
    let size = 0;
    for (let i = 0; i < length; i++) {
      const bytes = column.valid !== null && column.valid[i] === 0 ? new Uint8Array(0) : encoder.encode(column.values[i]!);
      parts.push(bytes);
      size += bytes.length;
      valueOffsets[i + 1] = size;
    }
    const data = new Uint8Array(size);
    let at = 0;
    for (const part of parts) {
      data.set(part, at);
      at += part.length;
    }
    return makeData({ type: type as Utf8, length, nullCount, nullBitmap, valueOffsets, data });
  }
  if (column.type === 'bool') {
    return makeData({ type: type as Bool, length, nullCount, nullBitmap, data: packBits(column.values, length)! });
  }
  const values = column.values.subarray(0, length);
  if (type instanceof Int64 && column.exact) return makeData({ type, length, nullCount, nullBitmap, data: column.exact.slice(0, length) });
  if (type instanceof Int64 || type instanceof TimestampMicrosecond) {
    const words = new BigInt64Array(length);
    for (let i = 0; i < length; i++) words[i] = Number.isFinite(values[i]!) ? BigInt(Math.round(values[i]!)) : 0n;
    return makeData({ type: type as Int64, length, nullCount, nullBitmap, data: words });
  }
  if (type instanceof Int32) return makeData({ type, length, nullCount, nullBitmap, data: Int32Array.from(values) });
  if (type instanceof Float32) return makeData({ type, length, nullCount, nullBitmap, data: Float32Array.from(values) });
  // A copy: the writer queues the batch, and readers reuse their arrays (Source.batches).
  return makeData({ type: type as Float64, length, nullCount, nullBitmap, data: values.slice() });
}

export function openArrowWriter(path: string, columns: readonly OutputColumn[], stream: boolean): TableWriter {
  const schema = new Schema(columns.map((c) => new Field(c.name, arrowTypeOf(c), true)));
  const writer = stream ? new RecordBatchStreamWriter() : new RecordBatchFileWriter();
  const out = createWriteStream(path);
  const finished = new Promise<void>((resolve, reject) => {
    out.once('close', resolve);
    out.once('error', reject);
  });
  writer.toNodeStream().pipe(out);
  let wroteAny = false;
  return {
    async write(batch: Batch) {
      const children = batch.columns.map((column, c) => columnData(column, schema.fields[c]!.type, batch.rowCount));
      const data = makeData({ type: new Struct(schema.fields), length: batch.rowCount, nullCount: 0, children });
      writer.write(new RecordBatch(schema, data));
      wroteAny = true;
    },
    async close() {
      // A file with no batches still carries its schema.
      if (!wroteAny) writer.reset(undefined, schema);
      writer.finish();
      await finished;
    },
    async abort() {
      out.destroy();
      await removeQuietly(path);
    },
  };
}
