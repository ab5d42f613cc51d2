// Reads a contract file: JSON, then the JSON Schema in schemas/contract.schema.json, then the
// rules a schema cannot express (names that must refer to columns, bounds in order).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ColumnContract, Contract } from '../core/contract.js';
import { InputError } from '../core/errors.js';
import { schemaError } from './json-schema.js';
import { validateProvenanceSection } from '../provenance/contract-section.js';
import { parseTimestamp } from '../core/parse.js';
import { compileTimestampFormat } from '../core/timestamp-format.js';
import { boundValue } from '../core/contract.js';

export interface LoadedContract {
  readonly contract: Contract;
  readonly path: string;
  readonly sha256: string;
}

export async function loadContract(path: string): Promise<LoadedContract> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new InputError('cannot read contract: no such file', { subject: path });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InputError(`contract is not valid JSON: ${(error as Error).message}`, { subject: path });
  }
  const contract = validateContract(value, path);
  return { contract, path, sha256: createHash('sha256').update(text).digest('hex') };
}

/** Validates a parsed contract; throws InputError naming the field. */
export function validateContract(value: unknown, subject = 'contract'): Contract {
  const schemaProblem = schemaError('contract.schema.json', value);
  if (schemaProblem) throw new InputError(`invalid contract: ${schemaProblem}`, { subject });
  const contract = value as Contract;
  const fail = (field: string, message: string): never => {
    throw new InputError(`invalid contract: ${field}: ${message}`, { subject });
  };
  const names = new Set<string>();
  contract.columns.forEach((column, index) => {
    const field = `columns[${index}]`;
    if (names.has(column.name)) fail(`${field}.name`, `column '${column.name}' is named twice`);
    names.add(column.name);
    checkColumn(column, field, fail);
  });
  for (const role of ['label', 'id', 'source'] as const) {
    const name = contract[role];
    if (name !== undefined && !names.has(name)) fail(role, `names column '${name}', which the contract does not list`);
  }
  if (contract.gate.pass > contract.gate.warn) fail('gate.pass', `must not exceed gate.warn (${contract.gate.pass} > ${contract.gate.warn})`);
  if (contract.provenance !== undefined) {
    const [problem] = validateProvenanceSection(contract.provenance);
    if (problem) throw new InputError(`invalid contract: ${problem}`, { subject });
  }
  return contract;
}

function checkColumn(column: ColumnContract, field: string, fail: (field: string, message: string) => never): void {
  const numeric = column.type === 'int' || column.type === 'float';
  for (const bound of ['min', 'max'] as const) {
    const value = column[bound];
    if (value === undefined) continue;
    if (numeric && typeof value !== 'number') fail(`${field}.${bound}`, `must be a number for a ${column.type} column`);
    if (column.type === 'timestamp' && (typeof value !== 'string' || parseTimestamp(value) === null)) {
      fail(`${field}.${bound}`, 'must be an ISO-8601 timestamp string for a timestamp column');
    }
    if (column.type === 'string' || column.type === 'bool') fail(`${field}.${bound}`, `does not apply to a ${column.type} column`);
  }
  if (column.min !== undefined && column.max !== undefined && boundValue(column, column.min) > boundValue(column, column.max)) {
    fail(`${field}.min`, `must not exceed max (${String(column.min)} > ${String(column.max)})`);
  }
  if (column.pattern !== undefined) {
    if (column.type !== 'string') fail(`${field}.pattern`, `applies to string columns only, not ${column.type}`);
    try {
      new RegExp(column.pattern, 'u');
    } catch (error) {
      fail(`${field}.pattern`, `not a valid regular expression: ${(error as Error).message}`);
    }
  }
  if (column.format !== undefined) {
    if (column.type !== 'timestamp') fail(`${field}.format`, `applies to timestamp columns only, not ${column.type}`);
    const parser = compileTimestampFormat(column.format);
    if (typeof parser === 'string') fail(`${field}.format`, parser);
  }
  column.allowed?.forEach((value, i) => {
    const ok =
      column.type === 'string' ? typeof value === 'string'
        : column.type === 'bool' ? typeof value === 'boolean'
          : column.type === 'int' ? Number.isInteger(value)
            : column.type === 'float' ? typeof value === 'number'
              : typeof value === 'string' && parseTimestamp(value) !== null;
    if (!ok) fail(`${field}.allowed[${i}]`, `${JSON.stringify(value)} is not a ${column.type} value`);
  });
}
