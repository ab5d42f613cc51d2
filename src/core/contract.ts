// What a contract says about a dataset. Loading and validation live in src/contract; the shape
// lives here so that checks can read it without depending on how it was loaded.
import { parseTimestamp } from './parse.js';
import type { LogicalType } from './types.js';

export type AllowedValue = string | number | boolean;

export interface ColumnContract {
  readonly name: string;
  readonly type: LogicalType;
  /** May the column hold nulls? Default true. */
  readonly nullable?: boolean;
  /** Must the column be present in the file? Default true. */
  readonly required?: boolean;
  /** Inclusive bounds; timestamps as ISO-8601 strings. */
  readonly min?: number | string;
  readonly max?: number | string;
  /** The only values allowed (for the label column: the classes). */
  readonly allowed?: readonly AllowedValue[];
  /** A regular expression string values must match in full. */
  readonly pattern?: string;
  /** Timestamps only: the strptime layout of their text in CSV and JSON (default ISO-8601). */
  readonly format?: string;
  /** No two rows may share a non-null value. */
  readonly unique?: boolean;
}

/** Maximum quarantine fractions: at most `pass` passes, at most `warn` warns, above fails. */
export interface Gate {
  readonly pass: number;
  readonly warn: number;
}

export interface Contract {
  readonly name: string;
  readonly description?: string;
  readonly label?: string;
  readonly id?: string;
  readonly source?: string;
  readonly gate: Gate;
  /** Columns in the order the dataset holds them. */
  readonly columns: readonly ColumnContract[];
  /** Extra columns are a warning unless allowed. Default false. */
  readonly allowExtraColumns?: boolean;
  /** Rows may repeat an earlier row's content (event logs, coarse readings); ids and unique values are still checked. */
  readonly allowDuplicateRows?: boolean;
  /** Detector settings (thresholds, quantiles); see docs/detectors.md. */
  readonly detectors?: Readonly<Record<string, unknown>>;
  /** Drift thresholds per statistic. */
  readonly drift?: Readonly<Record<string, unknown>>;
  /** Trusted keys, allowed sources and manifest rules. */
  readonly provenance?: Readonly<Record<string, unknown>>;
}

export const DEFAULT_GATE: Gate = { pass: 0.01, warn: 0.05 };

export function columnContract(contract: Contract, name: string): ColumnContract | undefined {
  return contract.columns.find((c) => c.name === name);
}

/** A bound or allowed value as a number: timestamps become epoch microseconds. */
export function boundValue(column: ColumnContract, bound: number | string): number {
  return column.type === 'timestamp' ? (parseTimestamp(String(bound)) ?? Number.NaN) : Number(bound);
}
