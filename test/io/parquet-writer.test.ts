// The Parquet writer: files read back exactly by DuckDB and by hyparquet, with the declared
// types, row groups, encodings, compression and statistics; and the Snappy compressor alone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance, DuckDBTimestampTZValue, type DuckDBConnection } from '@duckdb/node-api';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { compressors, decompressSnappy } from 'hyparquet-compressors';
import { makeBatch, type Batch, type Column } from '../../src/core/types.js';
import { openParquetWriter, parquetFieldOf, type ParquetWriterOptions } from '../../src/io/write/parquet.js';
import { maxCompressedLength, snappyCompress, snappyCompressInto } from '../../src/io/write/parquet/snappy.js';
import { openWriter } from '../../src/io/write/index.js';
import type { OutputColumn } from '../../src/io/write/writer.js';
import { tempDir } from '../helpers.js';

let work = '';
let db: DuckDBConnection;
let fileCounter = 0;

before(async () => {
  work = await tempDir('datawarden-parquet-writer-');
  db = await (await DuckDBInstance.create(':memory:')).connect();
});

after(async () => {
  db.closeSync();
  await rm(work, { recursive: true, force: true });
});

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- building batches --------------------------------------------------------------------

type Cell = number | string | boolean | null;

/** A column from cells (null = missing); `valid` is left null when nothing is missing. */
function column(spec: OutputColumn, cells: readonly Cell[]): Column {
  const n = cells.length;
  const anyNull = cells.some((c) => c === null);
  const valid = anyNull ? Uint8Array.from(cells, (c) => (c === null ? 0 : 1)) : null;
  const base = { name: spec.name, sourceType: spec.sourceType, valid, bad: null };
  if (spec.type === 'string') return { ...base, type: 'string', values: cells.map((c) => (c === null ? '' : String(c))) };
  if (spec.type === 'bool') return { ...base, type: 'bool', values: Uint8Array.from(cells, (c) => (c === true ? 1 : 0)) };
  const values = new Float64Array(n);
  cells.forEach((c, i) => (values[i] = c === null ? 0 : Number(c)));
  return { ...base, type: spec.type, values };
}

function batchOf(specs: readonly OutputColumn[], cells: Record<string, readonly Cell[]>, rowOffset = 0): Batch {
  const columns = specs.map((spec) => column(spec, cells[spec.name]!));
  return makeBatch(rowOffset, specs.length === 0 ? 0 : cells[specs[0]!.name]!.length, columns);
}

async function writeFile(specs: readonly OutputColumn[], batches: readonly Batch[], options: ParquetWriterOptions = {}): Promise<string> {
  const path = join(work, `out-${++fileCounter}.parquet`);
  const writer = await openParquetWriter(path, specs, options);
  for (const batch of batches) await writer.write(batch);
  await writer.close();
  return path;
}

// ---- what each reader must return ----------------------------------------------------------

/** The value a reader must give for a cell, in the reader-neutral form the helpers below produce. */
function expectedCell(spec: OutputColumn, cell: Cell): unknown {
  if (cell === null) return null;
  const field = parquetFieldOf(spec);
  switch (field.type) {
    case 'INT32': return Number(cell);
    case 'INT64': return BigInt(Number(cell));
    case 'FLOAT': return Math.fround(Number(cell));
    case 'DOUBLE': return Number(cell);
    case 'BOOLEAN': return cell === true;
    default: return String(cell);
  }
}

function expectedColumns(specs: readonly OutputColumn[], batches: readonly Record<string, readonly Cell[]>[]): Record<string, unknown[]> {
  return Object.fromEntries(specs.map((spec) => [spec.name, batches.flatMap((b) => b[spec.name]!.map((cell) => expectedCell(spec, cell)))]));
}

async function readWithDuckdb(path: string): Promise<Record<string, unknown[]>> {
  const reader = await db.runAndReadAll(`SELECT * FROM read_parquet('${path}')`);
  const out: Record<string, unknown[]> = Object.fromEntries(reader.columnNames().map((name) => [name, []]));
  for (const row of reader.getRowObjects()) {
    for (const [name, value] of Object.entries(row)) {
      out[name]!.push(value instanceof DuckDBTimestampTZValue ? value.micros : value);
    }
  }
  return out;
}

async function readWithHyparquet(path: string, names: readonly string[]): Promise<Record<string, unknown[]>> {
  const rows = await parquetReadObjects({
    file: await asyncBufferFromFile(path),
    compressors,
    parsers: { timestampFromMicroseconds: (micros: bigint) => micros },
  });
  return Object.fromEntries(names.map((name) => [name, rows.map((row) => row[name] ?? null)]));
}

async function describe(path: string): Promise<string[][]> {
  const reader = await db.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${path}')`);
  return reader.getRowObjectsJson().map((row) => [String(row.column_name), String(row.column_type)]);
}

interface ChunkInfo {
  rowGroup: number;
  rows: number;
  column: string;
  compression: string;
  encodings: string;
  min: string | null;
  max: string | null;
  nulls: number | null;
}

async function chunks(path: string): Promise<ChunkInfo[]> {
  const reader = await db.runAndReadAll(
    `SELECT row_group_id, row_group_num_rows, path_in_schema, compression, encodings, stats_min_value, stats_max_value, stats_null_count
     FROM parquet_metadata('${path}') ORDER BY row_group_id, column_id`,
  );
  return reader.getRowObjectsJson().map((r) => ({
    rowGroup: Number(r.row_group_id),
    rows: Number(r.row_group_num_rows),
    column: String(r.path_in_schema),
    compression: String(r.compression),
    encodings: String(r.encodings),
    min: r.stats_min_value === null ? null : String(r.stats_min_value),
    max: r.stats_max_value === null ? null : String(r.stats_max_value),
    nulls: r.stats_null_count === null ? null : Number(r.stats_null_count),
  }));
}

/** Writes, then checks both readers return exactly the cells, and DuckDB the declared types. */
async function assertRoundTrip(
  specs: readonly OutputColumn[], cellBatches: readonly Record<string, readonly Cell[]>[], options: ParquetWriterOptions = {},
): Promise<string> {
  const path = await writeFile(specs, cellBatches.map((cells) => batchOf(specs, cells)), options);
  const expected = expectedColumns(specs, cellBatches);
  assert.deepEqual(await readWithDuckdb(path), expected, 'DuckDB');
  assert.deepEqual(await readWithHyparquet(path, specs.map((s) => s.name)), expected, 'hyparquet');
  return path;
}

const DUCKDB_TYPES: Record<string, string> = {
  INT32: 'INTEGER', INT64: 'BIGINT', FLOAT: 'FLOAT', DOUBLE: 'DOUBLE', BOOLEAN: 'BOOLEAN', BYTE_ARRAY: 'VARCHAR',
};

function duckdbTypeOf(spec: OutputColumn): string {
  return spec.type === 'timestamp' ? 'TIMESTAMP WITH TIME ZONE' : DUCKDB_TYPES[parquetFieldOf(spec).type]!;
}

// ---- every type ------------------------------------------------------------------------------

const ALL_TYPES: OutputColumn[] = [
  { name: 'i32', type: 'int', sourceType: 'INTEGER' },
  { name: 'i16', type: 'int', sourceType: 'Int16' },
  { name: 'i64', type: 'int', sourceType: 'BIGINT' },
  { name: 'f64', type: 'float', sourceType: 'DOUBLE' },
  { name: 'f32', type: 'float', sourceType: 'FLOAT' },
  { name: 'ts', type: 'timestamp', sourceType: 'TIMESTAMP' },
  { name: 'flag', type: 'bool', sourceType: 'BOOLEAN' },
  { name: 'text', type: 'string', sourceType: 'VARCHAR' },
  { name: 'ütf 列', type: 'string', sourceType: 'utf8' },
];

const ALL_TYPES_CELLS: Record<string, Cell[]> = {
  i32: [0, -1, 2147483647, -2147483648, null, 42, null, 7],
  i16: [1, null, -32768, 32767, 0, null, 5, 6],
  i64: [2 ** 31, -(2 ** 31) - 1, 2 ** 53 - 1, -(2 ** 53 - 1), null, 0, -1, 1099511627776],
  f64: [NaN, Infinity, -Infinity, null, 0.1, -1e308, 5e-324, 123456.789],
  f32: [1.5, null, -0.1, 3.4e38, NaN, Infinity, -Infinity, 1e-7],
  ts: [0, -1, -62135596800000000, 253402300799999999, null, 1767225600123456, -86400000000, 1],
  flag: [true, false, null, true, true, null, false, false],
  text: ['', 'plain', null, 'ünïcode ✓', '日本語テキスト', '😀 emoji', '', 'line\nbreak\u0000nul'],
  'ütf 列': ['a', 'a', 'b', null, 'a', 'b', 'a', null],
};

test('every type, with nulls, round-trips exactly through DuckDB and hyparquet', async () => {
  for (const options of [{}, { compression: 'uncompressed' }, { alwaysCompress: true }] as ParquetWriterOptions[]) {
    const path = await assertRoundTrip(ALL_TYPES, [ALL_TYPES_CELLS], options);
    assert.deepEqual(await describe(path), ALL_TYPES.map((spec) => [spec.name, duckdbTypeOf(spec)]));
  }
});

test('physical types follow the source type as the Arrow writer does', () => {
  const physical = (type: OutputColumn['type'], sourceType: string) => parquetFieldOf({ name: 'x', type, sourceType }).type;
  for (const narrow of ['TINYINT', 'SMALLINT', 'INTEGER', 'UTINYINT', 'USMALLINT', 'Int8', 'Int16', 'Int32', 'Uint8', 'Uint16']) {
    assert.equal(physical('int', narrow), 'INT32', narrow);
  }
  for (const wide of ['BIGINT', 'UINTEGER', 'HUGEINT', 'Int64', 'csv-text', 'int']) assert.equal(physical('int', wide), 'INT64', wide);
  assert.equal(physical('float', 'FLOAT'), 'FLOAT');
  assert.equal(physical('float', 'Float32'), 'FLOAT');
  assert.equal(physical('float', 'DOUBLE'), 'DOUBLE');
  assert.equal(physical('float', 'DECIMAL(10,2)'), 'DOUBLE');
  assert.deepEqual(parquetFieldOf({ name: 't', type: 'timestamp', sourceType: 'TIMESTAMP_NS' }), { name: 't', type: 'INT64', logical: 'TIMESTAMP' });
  assert.equal(physical('bool', 'BOOLEAN'), 'BOOLEAN');
  assert.deepEqual(parquetFieldOf({ name: 's', type: 'string', sourceType: 'VARCHAR' }), { name: 's', type: 'BYTE_ARRAY', logical: 'STRING' });
});

test('all-null and all-present columns, and a null in every position of a run', async () => {
  const specs: OutputColumn[] = [
    { name: 'n', type: 'float', sourceType: 'DOUBLE' },
    { name: 's', type: 'string', sourceType: 'VARCHAR' },
    { name: 'b', type: 'bool', sourceType: 'BOOLEAN' },
    { name: 'k', type: 'int', sourceType: 'BIGINT' },
  ];
  // Null runs of every length from 1 to 40 between present runs of every length, so the level
  // encoder switches between bit-packed and RLE runs at every alignment.
  const pattern: boolean[] = [];
  for (let a = 1; a <= 40; a++) for (const present of [1, 7, 8, 9, 17]) pattern.push(...Array<boolean>(present).fill(true), ...Array<boolean>(a).fill(false));
  const n = pattern.length;
  const cells = {
    n: pattern.map((p, i) => (p ? i / 7 : null)),
    s: pattern.map((p, i) => (p ? `v${i % 3}` : null)),
    b: pattern.map((p, i) => (p ? i % 3 === 0 : null)),
    k: pattern.map((p, i) => (p ? i * 1000003 : null)),
  };
  const allNull = { n: Array<Cell>(50).fill(null), s: Array<Cell>(50).fill(null), b: Array<Cell>(50).fill(null), k: Array<Cell>(50).fill(null) };
  const allPresent = {
    n: Array.from({ length: 20 }, (_, i) => i),
    s: Array.from({ length: 20 }, (_, i) => `s${i}`),
    b: Array.from({ length: 20 }, (_, i) => i % 2 === 0),
    k: Array.from({ length: 20 }, (_, i) => -i),
  };
  const path = await assertRoundTrip(specs, [cells, allNull, allPresent], { rowGroupRows: 1 });
  const info = await chunks(path);
  assert.deepEqual([...new Set(info.map((c) => c.rows))], [n, 50, 20]);
  assert.deepEqual(info.filter((c) => c.rowGroup === 1).map((c) => [c.nulls, c.min, c.max]), specs.map(() => [50, null, null]));
});

test('a zero-row file is valid: schema, no row groups', async () => {
  for (const options of [{}, { compression: 'uncompressed' }] as ParquetWriterOptions[]) {
    const path = await writeFile(ALL_TYPES, [], options);
    assert.deepEqual(await describe(path), ALL_TYPES.map((spec) => [spec.name, duckdbTypeOf(spec)]));
    assert.deepEqual(await readWithDuckdb(path), Object.fromEntries(ALL_TYPES.map((s) => [s.name, []])));
    assert.deepEqual(await parquetReadObjects({ file: await asyncBufferFromFile(path), compressors }), []);
    const meta = await db.runAndReadAll(`SELECT num_rows, num_row_groups FROM parquet_file_metadata('${path}')`);
    assert.deepEqual(meta.getRowObjectsJson(), [{ num_rows: '0', num_row_groups: '0' }]);
  }
  // Empty batches alone write nothing either.
  const path = await writeFile(ALL_TYPES, [batchOf(ALL_TYPES, Object.fromEntries(ALL_TYPES.map((s) => [s.name, []])))]);
  assert.deepEqual(await chunks(path), []);
});

// ---- row groups ------------------------------------------------------------------------------

test('batches of different sizes: small ones are gathered, large ones form their own row group', async () => {
  const specs: OutputColumn[] = [
    { name: 'id', type: 'int', sourceType: 'BIGINT' },
    { name: 'x', type: 'float', sourceType: 'DOUBLE' },
    { name: 'cat', type: 'string', sourceType: 'VARCHAR' },
    { name: 'ok', type: 'bool', sourceType: 'BOOLEAN' },
  ];
  const sizes = [30, 30, 50, 0, 250, 10, 100, 99, 1, 5];
  let id = 0;
  const cellBatches = sizes.map((size, b) => {
    const ids = Array.from({ length: size }, () => id++);
    // Every other batch has nulls, so gathered rows mix batches with and without them.
    const nullable = <T extends Cell>(v: T, i: number): T | null => (b % 2 === 1 && ids[i]! % 4 === 0 ? null : v);
    return {
      id: ids,
      x: ids.map((v, i) => nullable(v * 0.5, i)),
      cat: ids.map((v, i) => nullable(['red', 'green', 'blue'][v % 3]!, i)),
      ok: ids.map((v, i) => nullable(v % 5 === 0, i)),
    };
  });
  const path = await assertRoundTrip(specs, cellBatches, { rowGroupRows: 100 });
  const info = await chunks(path);
  const groups = [...new Map(info.map((c) => [c.rowGroup, c.rows])).values()];
  // 30+30+50 gathered; 250 alone; the pending 10 goes out before the 100-row batch; 99 alone
  // (half a row group or more, nothing pending); 1+5 at close.
  assert.deepEqual(groups, [110, 250, 10, 100, 99, 6]);
  assert.equal(info.length, groups.length * specs.length);
  const meta = await db.runAndReadAll(`SELECT num_rows, num_row_groups FROM parquet_file_metadata('${path}')`);
  assert.deepEqual(meta.getRowObjectsJson(), [{ num_rows: '575', num_row_groups: '6' }]);
});

test('the default row group gathers batches under half its size to at least 65536 rows', async () => {
  const specs: OutputColumn[] = [{ name: 'v', type: 'int', sourceType: 'INTEGER' }];
  // 20000+20000+30000 gathered; 40000 alone (at least 32768, nothing pending); 70000 alone; 10.
  const sizes = [20000, 20000, 30000, 40000, 70000, 10];
  let next = 0;
  const batches = sizes.map((size) => batchOf(specs, { v: Array.from({ length: size }, () => next++) }));
  const path = await writeFile(specs, batches);
  assert.deepEqual([...new Map((await chunks(path)).map((c) => [c.rowGroup, c.rows])).values()], [70000, 40000, 70000, 10]);
  const sum = await db.runAndReadAll(`SELECT count(*)::INTEGER AS n, sum(v)::BIGINT AS s, count(DISTINCT v)::INTEGER AS d FROM read_parquet('${path}')`);
  assert.deepEqual(sum.getRowObjectsJson(), [{ n: 180010, s: String((180010 * 180009) / 2), d: 180010 }]);
});

test('a string column switches between dictionary and plain encoding across row groups', async () => {
  const specs: OutputColumn[] = [{ name: 's', type: 'string', sourceType: 'VARCHAR' }, { name: 'n', type: 'int', sourceType: 'INTEGER' }];
  const repeat = (values: readonly Cell[], n: number) => Array.from({ length: n }, (_, i) => values[i % values.length]!);
  const cellBatches = [
    { s: repeat(['alpha', 'béta', 'gämma'], 1000) }, // 3 distinct: dictionary
    { s: Array.from({ length: 1000 }, (_, i) => `unique-${i}`) }, // all distinct: plain
    { s: repeat(['x', null, 'y', null, null], 1000) }, // 2 distinct among 400 present: dictionary
    { s: repeat(['p', 'q', 'r', 's', 't'], 10) }, // 5 of 10: exactly half, dictionary
    { s: [...repeat(['p', 'q', 'r', 's', 't', 'u'], 6), 'p', 'q', 'r', 's', 't'] }, // 6 of 11: plain
    { s: repeat([null], 20) }, // nothing present: plain
  ].map((cells) => ({ ...cells, n: cells.s.map((_, i) => i) }));
  const path = await assertRoundTrip(specs, cellBatches, { rowGroupRows: 1 });
  const strings = (await chunks(path)).filter((c) => c.column === 's');
  assert.deepEqual(strings.map((c) => c.encodings.includes('RLE_DICTIONARY')), [true, false, true, true, false, false]);
  assert.deepEqual(strings.map((c) => [c.min, c.max, c.nulls]), [
    ['alpha', 'gämma', 0],
    ['unique-0', 'unique-999', 0],
    ['x', 'y', 600],
    ['p', 't', 0],
    ['p', 'u', 0],
    [null, null, 20],
  ]);
});

test('a dictionary too large in bytes falls back to plain even when values repeat', async () => {
  const specs: OutputColumn[] = [{ name: 's', type: 'string', sourceType: 'VARCHAR' }];
  // 100 distinct values of 50,000 characters, each twice: few distinct, but 5 MB of dictionary.
  const long = Array.from({ length: 100 }, (_, i) => `${i}:`.padEnd(50_000, String.fromCharCode(97 + (i % 26))));
  const short = Array.from({ length: 200 }, (_, i) => `${i % 100}`);
  const path = await assertRoundTrip(specs, [{ s: [...long, ...long] }, { s: short }], { rowGroupRows: 1 });
  assert.deepEqual((await chunks(path)).map((c) => c.encodings.includes('RLE_DICTIONARY')), [false, true]);
});

test('large row groups are split into several pages of each kind', async () => {
  const rows = 200_000;
  const specs: OutputColumn[] = [
    { name: 'x', type: 'float', sourceType: 'DOUBLE' },
    { name: 'k', type: 'int', sourceType: 'BIGINT' },
    { name: 's', type: 'string', sourceType: 'VARCHAR' },
    { name: 'c', type: 'string', sourceType: 'VARCHAR' },
    { name: 'b', type: 'bool', sourceType: 'BOOLEAN' },
  ];
  const next = random(7);
  const cells = {
    x: Array.from({ length: rows }, (_, i) => (i % 1000 === 0 ? null : next() * 1e6 - 5e5)),
    k: Array.from({ length: rows }, (_, i) => (i % 777 === 0 ? null : Math.floor(next() * 2 ** 52) - 2 ** 51)),
    // ~35 bytes each: about 7 MB of plain strings, cut into pages of about 1 MB.
    s: Array.from({ length: rows }, (_, i) => (i % 555 === 0 ? null : `row ${i} ${next().toString(36)} ${'ü'.repeat(i % 7)}`)),
    c: Array.from({ length: rows }, (_, i) => ['north', 'south', 'east', 'west'][Math.floor(next() * 4)]!),
    b: Array.from({ length: rows }, () => next() < 0.5),
  };
  const path = await assertRoundTrip(specs, [cells]);
  const pages = await db.runAndReadAll(
    `SELECT path_in_schema AS col, total_uncompressed_size AS size FROM parquet_metadata('${path}') ORDER BY column_id`,
  );
  const sizes = Object.fromEntries(pages.getRowObjectsJson().map((r) => [String(r.col), Number(r.size)]));
  assert.ok(sizes.s! > 5_000_000, `plain strings take ${sizes.s} bytes`);
  // hyparquet reading every page of every column exactly (above) is the check that page
  // boundaries are right; DuckDB agrees on the totals too.
  const totals = await db.runAndReadAll(`SELECT count(x)::INTEGER AS x, count(k)::INTEGER AS k, count(s)::INTEGER AS s FROM read_parquet('${path}')`);
  assert.deepEqual(totals.getRowObjectsJson(), [{ x: rows - 200, k: rows - Math.ceil(rows / 777), s: rows - Math.ceil(rows / 555) }]);
});

// ---- compression and statistics ---------------------------------------------------------------

test('compression: snappy where it pays, uncompressed on request, snappy everywhere when forced', async () => {
  const specs: OutputColumn[] = [
    { name: 'noise', type: 'float', sourceType: 'DOUBLE' },
    { name: 'small', type: 'int', sourceType: 'INTEGER' },
    { name: 'label', type: 'string', sourceType: 'VARCHAR' },
  ];
  const next = random(11);
  const rows = 70_000;
  const cells = {
    // Random sign, exponent and mantissa: nothing for snappy to find.
    noise: Array.from({ length: rows }, () => (next() - 0.5) * 2 ** Math.floor(next() * 80 - 40)),
    small: Array.from({ length: rows }, (_, i) => i % 10),
    label: Array.from({ length: rows }, (_, i) => `label-${i % 40000}`),
  };
  const compressionOf = async (path: string) => (await chunks(path)).map((c) => `${c.column}:${c.compression}`);
  const auto = await assertRoundTrip(specs, [cells]);
  assert.deepEqual(await compressionOf(auto), ['noise:UNCOMPRESSED', 'small:SNAPPY', 'label:SNAPPY']);
  const none = await assertRoundTrip(specs, [cells], { compression: 'uncompressed' });
  assert.deepEqual(await compressionOf(none), ['noise:UNCOMPRESSED', 'small:UNCOMPRESSED', 'label:UNCOMPRESSED']);
  // Forced: random doubles go through the compressor too and still read back exactly.
  const forced = await assertRoundTrip(specs, [cells], { alwaysCompress: true });
  assert.deepEqual(await compressionOf(forced), ['noise:SNAPPY', 'small:SNAPPY', 'label:SNAPPY']);
});

test('statistics: min, max and null count per column chunk, and DuckDB filters by them correctly', async () => {
  const specs: OutputColumn[] = [
    { name: 'i', type: 'int', sourceType: 'INTEGER' },
    { name: 'k', type: 'int', sourceType: 'BIGINT' },
    { name: 'd', type: 'float', sourceType: 'DOUBLE' },
    { name: 'n', type: 'float', sourceType: 'DOUBLE' },
    { name: 'f', type: 'float', sourceType: 'FLOAT' },
    { name: 'b', type: 'bool', sourceType: 'BOOLEAN' },
    { name: 's', type: 'string', sourceType: 'VARCHAR' },
    { name: 'u', type: 'string', sourceType: 'VARCHAR' },
  ];
  const cells = {
    i: [5, -3, null, 12, 0],
    k: [2 ** 40, -(2 ** 35), 7, null, null],
    d: [-Infinity, 1.5, -2.25, null, 1e300],
    n: [NaN, 1.5, -2.25, null, 1e300],
    f: [0, 0.5, null, -0, 2],
    b: [true, true, null, true, true],
    // Code point order, as the UTF-8 bytes sort: U+FFFD sorts below an emoji (a surrogate pair).
    s: ['z', 'é', '😀', '\uFFFD', 'a'],
    u: ['same', 'same', 'same', 'same', 'same'],
  };
  const path = await assertRoundTrip(specs, [cells]);
  assert.deepEqual((await chunks(path)).map((c) => [c.column, c.min, c.max, c.nulls]), [
    ['i', '-3', '12', 1],
    ['k', '-34359738368', '1099511627776', 2],
    // DuckDB shows no infinite bounds (its own files look the same); hyparquet shows it below.
    ['d', null, '1e+300', 1],
    // NaN leaves the bounds out: DuckDB would otherwise skip the chunk for NaN = 'NaN'.
    ['n', null, null, 1],
    ['f', '-0.0', '2.0', 1],
    ['b', 'true', 'true', 1],
    ['s', 'a', '😀', 0],
    ['u', 'same', 'same', 0],
  ]);
  const filtered = await db.runAndReadAll(
    `SELECT (SELECT list(s ORDER BY s) FROM read_parquet('${path}') WHERE s > '\uFFFD') AS above,
            (SELECT count(*)::INTEGER FROM read_parquet('${path}') WHERE d > 1e299) AS big,
            (SELECT count(*)::INTEGER FROM read_parquet('${path}') WHERE n = 'NaN'::DOUBLE OR n > 1e301) AS nan,
            (SELECT count(*)::INTEGER FROM read_parquet('${path}') WHERE k = 1099511627776) AS k40`,
  );
  assert.deepEqual(filtered.getRowObjectsJson(), [{ above: ['😀'], big: 1, nan: 1, k40: 1 }]);
  const metadata = await parquetMetadataAsync(await asyncBufferFromFile(path));
  const d = metadata.row_groups[0]!.columns[2]!.meta_data!.statistics!;
  assert.deepEqual([d.min_value, d.max_value, d.null_count], [-Infinity, 1e300, 1n]);
});

test('integer values beyond the 64-bit range saturate and non-finite ones become 0', async () => {
  const specs: OutputColumn[] = [{ name: 'k', type: 'int', sourceType: 'BIGINT' }];
  const path = await writeFile(specs, [batchOf(specs, { k: [1e19, -1e19, 2 ** 63, -(2 ** 63), NaN, Infinity, 2.5, -2.5] })]);
  const read = await readWithDuckdb(path);
  // Rounding follows Math.round (half up), as the Arrow writer does.
  assert.deepEqual(read.k, [9223372036854775807n, -9223372036854775808n, 9223372036854775807n, -9223372036854775808n, 0n, 0n, 3n, -2n]);
  assert.deepEqual((await chunks(path)).map((c) => [c.min, c.max]), [['-9223372036854775808', '9223372036854775807']]);
});

// ---- the writer's life cycle ------------------------------------------------------------------

test('abort removes the file; writes after close are refused; an unwritable path rejects at open', async () => {
  const specs: OutputColumn[] = [{ name: 'v', type: 'int', sourceType: 'INTEGER' }];
  const path = join(work, 'aborted.parquet');
  const writer = await openParquetWriter(path, specs);
  await writer.write(batchOf(specs, { v: Array.from({ length: 100_000 }, (_, i) => i) }));
  assert.ok(existsSync(path));
  await writer.abort();
  assert.equal(existsSync(path), false);

  const closed = await openParquetWriter(join(work, 'closed.parquet'), specs);
  await closed.close();
  await assert.rejects(closed.write(batchOf(specs, { v: [1] })), /after the writer was closed/);

  await assert.rejects(openParquetWriter(join(work, 'missing-dir', 'x.parquet'), specs), /ENOENT/);
});

test('a batch whose columns do not match the file is refused', async () => {
  const specs: OutputColumn[] = [{ name: 'v', type: 'int', sourceType: 'INTEGER' }, { name: 'w', type: 'int', sourceType: 'INTEGER' }];
  const writer = await openParquetWriter(join(work, 'mismatch.parquet'), specs);
  await assert.rejects(writer.write(batchOf([specs[0]!], { v: [1] })), /batch has 1 columns, the file 2/);
  await writer.abort();
});

test('openWriter picks this writer for .parquet, and other column kinds are converted to the declared one', async () => {
  const specs: OutputColumn[] = [
    { name: 'n_as_text', type: 'string', sourceType: 'VARCHAR' },
    { name: 'flag_as_int', type: 'int', sourceType: 'INTEGER' },
  ];
  const path = join(work, 'via-open-writer.parquet');
  const writer = await openWriter(path, 'parquet', specs);
  const numbers = column({ name: 'n_as_text', type: 'float', sourceType: 'DOUBLE' }, [1.5, null, -2]);
  const flags = column({ name: 'flag_as_int', type: 'bool', sourceType: 'BOOLEAN' }, [true, false, null]);
  await writer.write(makeBatch(0, 3, [numbers, flags]));
  await writer.close();
  assert.deepEqual(await readWithDuckdb(path), { n_as_text: ['1.5', null, '-2'], flag_as_int: [1, 0, null] });
});

test('two writers interleaving their writes do not disturb each other', async () => {
  const specs: OutputColumn[] = [{ name: 's', type: 'string', sourceType: 'VARCHAR' }, { name: 'x', type: 'float', sourceType: 'DOUBLE' }];
  const make = (tag: string, n: number) => ({
    s: Array.from({ length: n }, (_, i) => `${tag}-${i % (tag === 'a' ? 3 : n)}`),
    x: Array.from({ length: n }, (_, i) => (tag === 'a' ? i : -i)),
  });
  const a = await openParquetWriter(join(work, 'inter-a.parquet'), specs, { rowGroupRows: 1 });
  const b = await openParquetWriter(join(work, 'inter-b.parquet'), specs, { rowGroupRows: 1 });
  const cellsA = [make('a', 300_000), make('a', 10)];
  const cellsB = [make('b', 250_000), make('b', 20)];
  await Promise.all([
    (async () => { for (const cells of cellsA) await a.write(batchOf(specs, cells)); await a.close(); })(),
    (async () => { for (const cells of cellsB) await b.write(batchOf(specs, cells)); await b.close(); })(),
  ]);
  assert.deepEqual(await readWithDuckdb(join(work, 'inter-a.parquet')), expectedColumns(specs, cellsA));
  assert.deepEqual(await readWithDuckdb(join(work, 'inter-b.parquet')), expectedColumns(specs, cellsB));
});

// ---- snappy on its own --------------------------------------------------------------------------

function assertSnappyRoundTrip(input: Uint8Array, label: string): Uint8Array {
  const compressed = snappyCompress(input);
  assert.ok(compressed.length <= maxCompressedLength(input.length), `${label}: within the bound`);
  const restored = decompressSnappy(compressed, input.length);
  assert.equal(restored.length, input.length, label);
  assert.ok(Buffer.from(restored).equals(Buffer.from(input)), `${label}: bytes differ after the round trip`);
  return compressed;
}

test('snappy: empty, 1-byte and tiny inputs', () => {
  assert.deepEqual([...assertSnappyRoundTrip(new Uint8Array(0), 'empty')], [0]);
  assert.deepEqual([...assertSnappyRoundTrip(Uint8Array.of(0xab), 'one byte')], [1, 0, 0xab]);
  for (let n = 2; n <= 40; n++) assertSnappyRoundTrip(Uint8Array.from({ length: n }, (_, i) => i % 3), `tiny ${n}`);
});

test('snappy: random input round-trips and barely grows', () => {
  const next = random(3);
  for (const n of [15, 16, 100, 4096, 65535, 65536, 65537, 200_000, 1 << 20]) {
    const input = Uint8Array.from({ length: n }, () => Math.floor(next() * 256));
    const compressed = assertSnappyRoundTrip(input, `random ${n}`);
    assert.ok(compressed.length <= n + 5 + Math.ceil(n / 65536) * 5, `random ${n}: ${compressed.length} bytes`);
  }
});

test('snappy: repetitive input round-trips and shrinks', () => {
  const zeros = assertSnappyRoundTrip(new Uint8Array(1 << 20), 'zeros');
  assert.ok(zeros.length < (1 << 20) / 20, `zeros: ${zeros.length}`);
  const text = new TextEncoder().encode('the quick brown fox jumps over the lazy dog. '.repeat(5000));
  const compressed = assertSnappyRoundTrip(text, 'text');
  assert.ok(compressed.length < text.length / 10, `text: ${compressed.length} of ${text.length}`);
  // Long matches (over 64 bytes), offsets over 2047, and repeats at every period up to 300.
  for (let period = 1; period <= 300; period += 13) {
    const next = random(period);
    const unit = Uint8Array.from({ length: period }, () => Math.floor(next() * 256));
    const input = Uint8Array.from({ length: 70_000 }, (_, i) => unit[i % period]!);
    assertSnappyRoundTrip(input, `period ${period}`);
  }
  const next = random(99);
  const far = Uint8Array.from({ length: 5000 }, () => Math.floor(next() * 256));
  const farInput = new Uint8Array(80_000);
  for (let at = 0; at < farInput.length; at += 5000) farInput.set(far.subarray(0, Math.min(5000, farInput.length - at)), at);
  assertSnappyRoundTrip(farInput, 'offset 5000');
});

test('snappy: mixed random and repeated stretches, many sizes', () => {
  const next = random(5);
  const output = new Uint8Array(maxCompressedLength(1 << 16));
  for (let t = 0; t < 400; t++) {
    const n = Math.floor(next() * 20_000);
    const alphabet = 1 + Math.floor(next() * 6);
    const input = new Uint8Array(n);
    for (let i = 0; i < n; i++) input[i] = next() < 0.2 ? Math.floor(next() * 256) : Math.floor(next() * alphabet);
    const length = snappyCompressInto(input, output);
    const restored = decompressSnappy(output.subarray(0, length), n);
    assert.ok(Buffer.from(restored).equals(Buffer.from(input)), `case ${t} (${n} bytes)`);
  }
});
