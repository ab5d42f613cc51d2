// Page headers and the file footer (FileMetaData), in the Thrift compact protocol. Field ids
// follow parquet.thrift.
import { ThriftWriter } from './thrift.js';
import { PHYSICAL_TYPE_IDS, type ChunkStatistics, type PhysicalType } from './column.js';

export const Codec = { UNCOMPRESSED: 0, SNAPPY: 1 } as const;
export type CodecId = (typeof Codec)[keyof typeof Codec];

const PageType = { DATA_PAGE: 0, DICTIONARY_PAGE: 2 } as const;
const OPTIONAL = 1;
const RLE = 3;
const ConvertedType = { UTF8: 0, TIMESTAMP_MICROS: 10 } as const;

export interface ParquetField {
  readonly name: string;
  readonly type: PhysicalType;
  /** STRING for text; TIMESTAMP for epoch microseconds adjusted to UTC. */
  readonly logical: 'STRING' | 'TIMESTAMP' | null;
}

export interface ColumnChunkMeta {
  readonly type: PhysicalType;
  readonly path: string;
  readonly encodings: readonly number[];
  readonly codec: CodecId;
  readonly valueCount: number;
  readonly uncompressedSize: number;
  readonly compressedSize: number;
  readonly dataPageOffset: number;
  readonly dictionaryPageOffset: number | null;
  readonly statistics: ChunkStatistics;
}

export interface RowGroupMeta {
  readonly columns: readonly ColumnChunkMeta[];
  readonly rows: number;
  readonly fileOffset: number;
  readonly uncompressedSize: number;
  readonly compressedSize: number;
}

export function dataPageHeader(uncompressedSize: number, compressedSize: number, count: number, encoding: number): Uint8Array {
  const w = new ThriftWriter();
  w.i32(1, PageType.DATA_PAGE).i32(2, uncompressedSize).i32(3, compressedSize);
  w.struct(5).i32(1, count).i32(2, encoding).i32(3, RLE).i32(4, RLE).end();
  return w.end().out.toBytes();
}

export function dictionaryPageHeader(uncompressedSize: number, compressedSize: number, count: number, encoding: number): Uint8Array {
  const w = new ThriftWriter();
  w.i32(1, PageType.DICTIONARY_PAGE).i32(2, uncompressedSize).i32(3, compressedSize);
  w.struct(7).i32(1, count).i32(2, encoding).end();
  return w.end().out.toBytes();
}

function writeStatistics(w: ThriftWriter, statistics: ChunkStatistics): void {
  w.struct(12).i64(3, statistics.nullCount);
  if (statistics.max !== undefined) w.binary(5, statistics.max);
  if (statistics.min !== undefined) w.binary(6, statistics.min);
  w.end();
}

export function fileMetaData(fields: readonly ParquetField[], rowGroups: readonly RowGroupMeta[], createdBy: string): Uint8Array {
  const w = new ThriftWriter();
  w.i32(1, 1);
  const root = { name: 'schema', children: fields.length };
  w.listStruct(2, [root, ...fields], (element, w) => {
    if ('children' in element) {
      w.string(4, element.name).i32(5, element.children);
      return;
    }
    w.i32(1, PHYSICAL_TYPE_IDS[element.type]).i32(3, OPTIONAL).string(4, element.name);
    if (element.logical === 'STRING') {
      w.i32(6, ConvertedType.UTF8);
      w.struct(10).struct(1).end().end();
    } else if (element.logical === 'TIMESTAMP') {
      w.i32(6, ConvertedType.TIMESTAMP_MICROS);
      // TimestampType { isAdjustedToUTC: true, unit: TimeUnit { MICROS } }
      w.struct(10).struct(8).bool(1, true).struct(2).struct(2).end().end().end().end();
    }
  });
  w.i64(3, rowGroups.reduce((sum, group) => sum + group.rows, 0));
  w.listStruct(4, rowGroups, (group, w, ordinal) => {
    w.listStruct(1, group.columns, (chunk, w) => {
      w.i64(2, chunk.dictionaryPageOffset ?? chunk.dataPageOffset);
      w.struct(3)
        .i32(1, PHYSICAL_TYPE_IDS[chunk.type])
        .listI32(2, chunk.encodings)
        .listString(3, [chunk.path])
        .i32(4, chunk.codec)
        .i64(5, chunk.valueCount)
        .i64(6, chunk.uncompressedSize)
        .i64(7, chunk.compressedSize)
        .i64(9, chunk.dataPageOffset);
      if (chunk.dictionaryPageOffset !== null) w.i64(11, chunk.dictionaryPageOffset);
      writeStatistics(w, chunk.statistics);
      w.end();
    });
    w.i64(2, group.uncompressedSize).i64(3, group.rows).i64(5, group.fileOffset).i64(6, group.compressedSize);
    if (ordinal <= 0x7fff) w.i16(7, ordinal);
  });
  w.string(6, createdBy);
  // Every column's statistics use the type's own order (TypeDefinedOrder).
  w.listStruct(7, fields, (_field, w) => {
    w.struct(1).end();
  });
  return w.end().out.toBytes();
}
