// A TableWriter appends batches to one output file. Writers receive whole batches: the router
// has already gathered the rows that belong in each file.
import { EXACT_DOUBLE_LIMIT, type Batch, type Column, type LogicalType } from '../../core/types.js';
import { formatTimestamp, jsonStringValue } from '../../core/parse.js';

export interface OutputColumn {
  readonly name: string;
  readonly type: LogicalType;
  /** The type the input stored, so writers can keep it (INTEGER stays 32-bit; `text` stays text). */
  readonly sourceType: string;
}

export interface TableWriter {
  write(batch: Batch): Promise<void>;
  /** Completes the file. */
  close(): Promise<void>;
  /** Stops and removes what was written. */
  abort(): Promise<void>;
}

export function outputColumnsOf(columns: readonly Column[]): OutputColumn[] {
  return columns.map((c) => ({ name: c.name, type: c.type, sourceType: c.sourceType }));
}

/**
 * A cell as text, or null for a null: CSV writes this, and so do text columns elsewhere.
 * JSON-text cells (from JSON Lines) lose their quotes when they hold a string.
 */
export function cellText(column: Column, row: number): string | null {
  if (column.valid !== null && column.valid[row] === 0) return null;
  switch (column.type) {
    case 'string': {
      const text = column.values[row]!;
      return column.sourceType === 'json' && text.charCodeAt(0) === 34 ? jsonStringValue(text) : text;
    }
    case 'bool':
      return column.values[row] === 1 ? 'true' : 'false';
    case 'timestamp':
      return formatTimestamp(column.values[row]!);
    default:
      return numberText(column, row);
  }
}

/** A number as text: an int past 2^53 from its exact value, where the double is only the nearest. */
function numberText(column: Column & { values: Float64Array }, row: number): string {
  const value = column.values[row]!;
  return column.exact && Math.abs(value) >= EXACT_DOUBLE_LIMIT ? String(column.exact[row]!) : String(value);
}

/** A cell as JSON text. Non-finite numbers have no JSON form and become null. */
export function cellJson(column: Column, row: number): string {
  if (column.valid !== null && column.valid[row] === 0) return 'null';
  switch (column.type) {
    case 'string': {
      const text = column.values[row]!;
      return column.sourceType === 'json' ? text : JSON.stringify(text);
    }
    case 'bool':
      return column.values[row] === 1 ? 'true' : 'false';
    case 'timestamp':
      return `"${formatTimestamp(column.values[row]!)}"`;
    default:
      return Number.isFinite(column.values[row]!) ? numberText(column, row) : 'null';
  }
}
