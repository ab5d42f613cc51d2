// Parquet files DuckDB cannot read go through hyparquet (pure JS), one row group at a time:
// Hadoop-framed LZ4 pages, BYTE_STREAM_SPLIT on integer and fixed-length columns, and schemas
// DuckDB refuses.
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead, parquetSchema } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import type { InputColumn, InputShape } from '../core/check.js';
import { InputError, firstLine } from '../core/errors.js';
import { exactIntegers, makeBatch, makeColumn, type Batch, type Column, type LogicalType } from '../core/types.js';
import { assertRowCount, type ReadMode, type ReadOptions, type Source } from './source.js';

interface SchemaElement {
  name: string;
  type?: string;
  repetition_type?: string;
  converted_type?: string;
  logical_type?: { type: string };
  num_children?: number;
}

interface SchemaNode {
  element: SchemaElement;
  children: SchemaNode[];
}

/** The logical type of a flat Parquet leaf, or null when it is nested or repeated. */
export function logicalTypeOfParquet(element: SchemaElement): LogicalType | null {
  if (element.repetition_type === 'REPEATED' || (element.num_children ?? 0) > 0) return null;
  const logical = element.logical_type?.type ?? element.converted_type;
  switch (logical) {
    case 'DATE': case 'TIMESTAMP': case 'TIMESTAMP_MILLIS': case 'TIMESTAMP_MICROS': return 'timestamp';
    case 'DECIMAL': case 'FLOAT16': return 'float';
    case 'UTF8': case 'STRING': case 'ENUM': case 'JSON': case 'UUID': case 'TIME': case 'TIME_MILLIS': case 'TIME_MICROS': return 'string';
    default: break;
  }
  switch (element.type) {
    case 'BOOLEAN': return 'bool';
    case 'INT32': case 'INT64': return 'int';
    case 'INT96': return 'timestamp';
    case 'FLOAT': case 'DOUBLE': return 'float';
    default: return 'string';
  }
}

/** Bytes as DuckDB prints a BLOB: printable ASCII as is, everything else as \xHH. */
export function blobText(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) {
    text += byte >= 32 && byte <= 126 && byte !== 92 ? String.fromCharCode(byte) : `\\x${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return text;
}

// Timestamps arrive as exact BigInt nanoseconds, microseconds or milliseconds; dates as days.
const parsers = {
  timestampFromNanoseconds: (nanos: bigint) => Number(nanos / 1000n),
  timestampFromMicroseconds: (micros: bigint | number) => Number(micros),
  timestampFromMilliseconds: (millis: bigint | number) => Number(millis) * 1000,
  dateFromDays: (days: number) => days * 86_400_000_000,
  stringFromBytes: (bytes: Uint8Array | undefined) => (bytes === undefined ? undefined : new TextDecoder().decode(bytes)),
};

function failure(path: string, error: unknown): InputError {
  return error instanceof InputError ? error : new InputError(`cannot read Parquet: ${firstLine(error)}`, { subject: path, cause: error });
}

export async function openHyparquetSource(path: string, mode: ReadMode): Promise<Source> {
  let file;
  let metadata;
  try {
    file = await asyncBufferFromFile(path);
    metadata = await parquetMetadataAsync(file);
  } catch (error) {
    throw failure(path, error);
  }
  const root = parquetSchema(metadata) as unknown as SchemaNode;
  const columns: InputColumn[] = root.children.map((node) => {
    const type = node.children.length > 0 ? null : logicalTypeOfParquet(node.element);
    if (type === null) throw new InputError(`unsupported: nested column ${node.element.name}`, { subject: path });
    const logical = node.element.logical_type?.type ?? node.element.converted_type;
    return { name: node.element.name, type, sourceType: logical ? `${node.element.type}/${logical}` : String(node.element.type) };
  });
  const shape: InputShape = { path, format: 'parquet', columns, declaredRows: Number(metadata.num_rows) };
  const rowGroups = metadata.row_groups.map((group) => Number(group.num_rows));
  const readerFile = file;
  const readerMetadata = metadata;
  return {
    path, format: 'parquet', mode, shape, engine: 'hyparquet',
    async *batches(options: ReadOptions = {}): AsyncGenerator<Batch> {
      const range = options.range ?? { start: 0, end: Number.POSITIVE_INFINITY };
      let groupStart = 0;
      let read = 0;
      for (const groupSize of rowGroups) {
        const rowStart = Math.max(groupStart, range.start);
        const rowEnd = Math.min(groupStart + groupSize, range.end);
        groupStart += groupSize;
        if (rowEnd <= rowStart) continue;
        const groupRows = rowEnd - rowStart;
        let rows: unknown[][] = [];
        try {
          await parquetRead({
            file: readerFile, metadata: readerMetadata, compressors, parsers: parsers as never, utf8: false,
            rowStart, rowEnd,
            onComplete: (read: unknown[][]) => {
              rows = read;
            },
          });
        } catch (error) {
          throw failure(path, error);
        }
        if (rows.length !== groupRows) {
          throw new InputError(`corrupt file: row group at row ${rowStart} declares ${groupRows} rows but ${rows.length} could be read`, { subject: path });
        }
        yield makeBatch(rowStart, rows.length, columns.map((c, i) => columnOf(c, rows, i)));
        read += rows.length;
      }
      assertRowCount(path, shape.declaredRows, read, options.range);
    },
    close: async () => undefined,
  };
}

function columnOf(column: InputColumn, rows: unknown[][], index: number): Column {
  const n = rows.length;
  const valid = new Uint8Array(n);
  let anyNull = false;
  for (let r = 0; r < n; r++) {
    const value = rows[r]![index];
    const ok = value !== null && value !== undefined ? 1 : 0;
    valid[r] = ok;
    if (!ok) anyNull = true;
  }
  const present = anyNull ? valid : null;
  if (column.type === 'string') {
    const values = rows.map((row) => {
      const value = row[index];
      if (value === null || value === undefined) return '';
      return value instanceof Uint8Array ? blobText(value) : String(value);
    });
    return makeColumn(column.name, column.sourceType, 'string', values, present, null);
  }
  if (column.type === 'bool') {
    return makeColumn(column.name, column.sourceType, 'bool', Uint8Array.from(rows, (row) => (row[index] ? 1 : 0)), present, null);
  }
  const values = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const value = rows[r]![index];
    if (valid[r] === 1) values[r] = value instanceof Date ? value.getTime() * 1000 : Number(value as number | bigint);
  }
  // INT64 values arrive as BigInt: exact where their doubles are not (past 2^53).
  const exact = column.type === 'int' ? exactIntegers(values, present, (r) => {
    const value = rows[r]![index];
    return typeof value === 'bigint' ? value : null;
  }) : null;
  return makeColumn(column.name, column.sourceType, column.type!, values, present, null, undefined, exact);
}
