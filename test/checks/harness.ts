// Runs checks over hand-written rows through the same coercion and folding the scan uses, and
// returns each flagged row's reason codes, so a test reads as a table of rows and outcomes.
import type { CheckDefinition, InputShape } from '../../src/core/check.js';
import type { Contract } from '../../src/core/contract.js';
import { makeBatch, type Column, type DatasetFinding, type LogicalType } from '../../src/core/types.js';
import { applyContractTypes } from '../../src/contract/coerce.js';
import { validateContract } from '../../src/contract/load.js';
import { BatchFindings, foldBatch, Quarantine, ReasonRegistry } from '../../src/pipeline/findings.js';

export type Row = Record<string, unknown>;

/**
 * A column built from JS values. `text` columns hold strings as a CSV reader gives them
 * (sourceType 'text'); typed columns hold numbers, booleans or strings as a Parquet reader does.
 */
export function columnOf(name: string, type: LogicalType | 'text' | 'json', values: readonly unknown[]): Column {
  const n = values.length;
  const valid = Uint8Array.from(values, (v) => (v === null || v === undefined ? 0 : 1));
  const anyNull = valid.includes(0);
  const base = { name, valid: anyNull ? valid : null, bad: null };
  if (type === 'text' || type === 'json' || type === 'string') {
    return { ...base, sourceType: type === 'string' ? 'VARCHAR' : type, type: 'string', values: values.map((v) => (v === null || v === undefined ? '' : String(v))) };
  }
  if (type === 'bool') return { ...base, sourceType: 'BOOLEAN', type, values: Uint8Array.from(values, (v) => (v ? 1 : 0)) };
  const numbers = new Float64Array(n);
  values.forEach((v, i) => {
    if (v !== null && v !== undefined) numbers[i] = typeof v === 'string' ? Date.parse(v) * 1000 : Number(v);
  });
  return { ...base, sourceType: type === 'int' ? 'BIGINT' : type === 'float' ? 'DOUBLE' : 'TIMESTAMP', type, values: numbers };
}

export interface CheckRun {
  /** Reason codes by input row, for flagged rows only. */
  readonly flagged: Record<number, string[]>;
  readonly findings: readonly DatasetFinding[];
  readonly summaries: readonly (Readonly<Record<string, unknown>> | undefined)[];
}

export interface RunOptions {
  /** Physical type per column; default: the contract's type. */
  readonly types?: Readonly<Record<string, LogicalType | 'text' | 'json'>>;
  /** Rows per batch, to exercise state carried across batches. Default: all rows in one. */
  readonly batchRows?: number;
  readonly columns?: readonly string[];
}

export function runChecks(definitions: readonly CheckDefinition[], contractJson: unknown, rows: readonly Row[], options: RunOptions = {}): CheckRun {
  const contract: Contract = validateContract(contractJson);
  const names = options.columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const typeOf = (name: string) => options.types?.[name] ?? contract.columns.find((c) => c.name === name)?.type ?? 'string';
  const shape: InputShape = {
    path: 'test-rows',
    format: 'parquet',
    declaredRows: rows.length,
    columns: names.map((name) => {
      const t = typeOf(name);
      return { name, type: t === 'text' || t === 'json' ? 'string' : t, sourceType: String(t) };
    }),
  };
  const context = { contract, input: shape, seed: 1 };
  const findings = definitions.flatMap((d) => d.begin?.(context) ?? []);
  const runners = definitions.map((d) => d.create(context));
  const held = findings.filter((f) => f.holdAllRows).map((f) => f.code);
  const registry = new ReasonRegistry();
  const flags = new BatchFindings(registry);
  const quarantine = new Quarantine();
  const perCheck: number[] = definitions.map(() => 0);
  const size = options.batchRows ?? Math.max(1, rows.length);
  for (let offset = 0; offset < rows.length || (offset === 0 && rows.length === 0); offset += size) {
    const slice = rows.slice(offset, offset + size);
    const columns = names.map((name) => columnOf(name, typeOf(name), slice.map((r) => r[name])));
    const batch = applyContractTypes(makeBatch(offset, slice.length, columns), contract);
    flags.reset();
    runners.forEach((runner, c) => {
      flags.check = c;
      runner.run(batch, flags);
    });
    foldBatch(flags, registry, offset, slice.length, held, quarantine, perCheck);
    if (rows.length === 0) break;
  }
  const ends = definitions.map((d, c) => d.finish?.([runners[c]!.state?.()], { contract, input: shape, seed: 1 }) ?? {});
  const flagged: Record<number, string[]> = {};
  for (let k = 0; k < quarantine.length; k++) flagged[quarantine.rows[k]!] = quarantine.reasonsOf(k).split(';');
  return { flagged, findings: [...findings, ...ends.flatMap((e) => e.findings ?? [])], summaries: ends.map((e) => e.summary) };
}
