// Applies a contract's column types to a batch as read. Text formats arrive as text (CSV fields,
// JSON values as JSON text) and are parsed here; typed formats are checked for a type the
// contract does not allow. A value that cannot be read as its column's type is marked `bad`,
// so the schema check quarantines its row instead of the whole scan failing.
import type { ColumnContract, Contract } from '../core/contract.js';
import { isNumberText, jsonStringValue, parseBoolText, parseNumberText } from '../core/parse.js';
import { timestampParser, type TimestampParser } from '../core/timestamp-format.js';
import { exactIntegers, makeBatch, makeColumn, type Batch, type Column, type LogicalType, type StringColumn } from '../core/types.js';

export function applyContractTypes(batch: Batch, contract: Contract): Batch {
  let changed = false;
  const columns = batch.columns.map((column) => {
    const declared = contract.columns.find((c) => c.name === column.name);
    if (!declared) return column;
    const coerced = coerceColumn(column, declared, batch.rowCount);
    if (coerced !== column) changed = true;
    return coerced;
  });
  return changed ? makeBatch(batch.rowOffset, batch.rowCount, columns, batch) : batch;
}

/** Each timestamp column's parser, made once per contract column rather than once per batch. */
const parsers = new WeakMap<ColumnContract, TimestampParser>();

function parserFor(declared: ColumnContract): TimestampParser {
  let parser = parsers.get(declared);
  if (parser === undefined) parsers.set(declared, (parser = timestampParser(declared.format)));
  return parser;
}

export function coerceColumn(column: Column, declared: ColumnContract, rowCount: number): Column {
  const target = declared.type;
  if (column.sourceType === 'text') return fromText(column as Extract<Column, { type: 'string' }>, target, rowCount, parserFor(declared));
  if (column.sourceType === 'json') return fromJson(column as Extract<Column, { type: 'string' }>, target, rowCount, parserFor(declared));
  if (column.type === target) return column;
  return fromTyped(column, target, rowCount);
}

interface Builder {
  readonly valid: Uint8Array;
  readonly bad: Uint8Array;
  anyBad: boolean;
  anyInvalid: boolean;
}

function builder(rowCount: number): Builder {
  return { valid: new Uint8Array(rowCount), bad: new Uint8Array(rowCount), anyBad: false, anyInvalid: false };
}

function markBad(b: Builder, i: number): void {
  b.bad[i] = 1;
  b.anyBad = true;
  b.anyInvalid = true;
}

function present(column: Column, i: number): boolean {
  return column.valid === null || column.valid[i] === 1;
}

function finish<T extends Column>(column: T, b: Builder, type: LogicalType, values: unknown, badKind: 'type' | 'unparseable'): Column {
  const valid = b.anyInvalid ? b.valid : null;
  // An int past 2^53 keeps its exact value, from the text's digits (a JSON number's too).
  const text = column.type === 'string' ? (column as StringColumn).values : null;
  const exact = type === 'int' ? exactIntegers(values as Float64Array, valid, (row) => (text === null ? null : integerOfText(text[row]!))) : null;
  return makeColumn(column.name, column.sourceType, type, values as Column['values'], valid, b.anyBad ? b.bad : null, badKind, exact);
}

/** The integer that text spells in decimal digits ('+0012' -> 12n), or null. */
function integerOfText(text: string): bigint | null {
  const digits = text.trim();
  return /^[+-]?\d+$/.test(digits) ? BigInt(digits) : null;
}

/** Reads a number-like text for a numeric target, or null when it is not one; ints must be integral. */
function numberFromText(text: string, target: LogicalType, parseTimestamp: TimestampParser): number | null {
  if (target === 'timestamp') return parseTimestamp(text);
  const value = parseNumberText(text);
  // NaN is a number only when the text spells it ('nan').
  if (value !== value && !isNumberText(text)) return null;
  if (target === 'int' && !Number.isInteger(value)) return null;
  return value;
}

function fromText(column: Extract<Column, { type: 'string' }>, target: LogicalType, rowCount: number, parseTimestamp: TimestampParser): Column {
  const b = builder(rowCount);
  if (target === 'string') {
    for (let i = 0; i < rowCount; i++) {
      if (present(column, i)) b.valid[i] = 1;
      else b.anyInvalid = true;
    }
    return finish(column, b, 'string', column.values, 'unparseable');
  }
  if (target === 'bool') {
    const values = new Uint8Array(rowCount);
    for (let i = 0; i < rowCount; i++) {
      if (!present(column, i)) { b.anyInvalid = true; continue; }
      const parsed = parseBoolText(column.values[i]!);
      if (parsed < 0) markBad(b, i);
      else { values[i] = parsed; b.valid[i] = 1; }
    }
    return finish(column, b, 'bool', values, 'unparseable');
  }
  const values = new Float64Array(rowCount);
  for (let i = 0; i < rowCount; i++) {
    if (!present(column, i)) { b.anyInvalid = true; continue; }
    const parsed = numberFromText(column.values[i]!, target, parseTimestamp);
    if (parsed === null) markBad(b, i);
    else { values[i] = parsed; b.valid[i] = 1; }
  }
  return finish(column, b, target, values, 'unparseable');
}

/** The JSON type of a JSON text by its first character. */
function jsonKind(text: string): 'string' | 'number' | 'bool' | 'null' | 'nested' {
  const first = text.charCodeAt(0);
  if (first === 34) return 'string'; // "
  if (first === 116 || first === 102) return 'bool'; // t f
  if (first === 110) return 'null'; // n
  if (first === 123 || first === 91) return 'nested'; // { [
  return 'number';
}

function fromJson(column: Extract<Column, { type: 'string' }>, target: LogicalType, rowCount: number, parseTimestamp: TimestampParser): Column {
  const b = builder(rowCount);
  const strings = target === 'string' ? new Array<string>(rowCount) : null;
  const bools = target === 'bool' ? new Uint8Array(rowCount) : null;
  const numbers = strings === null && bools === null ? new Float64Array(rowCount) : null;
  for (let i = 0; i < rowCount; i++) {
    if (strings) strings[i] = '';
    if (!present(column, i)) { b.anyInvalid = true; continue; }
    const text = column.values[i]!;
    const kind = jsonKind(text);
    if (kind === 'null') { b.anyInvalid = true; continue; }
    if (strings) {
      if (kind === 'string') { strings[i] = jsonStringValue(text); b.valid[i] = 1; } else markBad(b, i);
    } else if (bools) {
      if (kind === 'bool') { bools[i] = text === 'true' ? 1 : 0; b.valid[i] = 1; } else markBad(b, i);
    } else if (target === 'timestamp') {
      const micros = kind === 'string' ? parseTimestamp(jsonStringValue(text)) : null;
      if (micros === null) markBad(b, i);
      else { numbers![i] = micros; b.valid[i] = 1; }
    } else {
      const value = kind === 'number' ? Number(text) : Number.NaN;
      if (kind !== 'number' || (target === 'int' && !Number.isInteger(value))) markBad(b, i);
      else { numbers![i] = value; b.valid[i] = 1; }
    }
  }
  return finish(column, b, target, strings ?? bools ?? numbers, 'type');
}

/** A typed column whose type differs from the contract's: only int -> float widens cleanly. */
function fromTyped(column: Column, target: LogicalType, rowCount: number): Column {
  const b = builder(rowCount);
  if (column.type === 'int' && target === 'float') {
    return makeColumn(column.name, column.sourceType, 'float', column.values, column.valid, column.bad, column.badKind);
  }
  if (column.type === 'float' && target === 'int') {
    // Parquet writers often store integer columns as doubles; integral values pass.
    const values = column.values;
    for (let i = 0; i < rowCount; i++) {
      if (!present(column, i)) { b.anyInvalid = true; continue; }
      if (Number.isInteger(values[i]!)) b.valid[i] = 1;
      else markBad(b, i);
    }
    return finish(column, b, 'int', values, 'type');
  }
  const values = target === 'string' ? new Array<string>(rowCount).fill('')
    : target === 'bool' ? new Uint8Array(rowCount) : new Float64Array(rowCount);
  for (let i = 0; i < rowCount; i++) {
    if (present(column, i)) markBad(b, i);
    else b.anyInvalid = true;
  }
  return finish(column, b, target, values, 'type');
}
