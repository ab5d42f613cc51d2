// Reads the numeric benchmark CSVs (header line, then comma-separated numbers) into columns.
import { readFileSync, writeFileSync } from 'node:fs';

export interface NumericTable {
  readonly names: readonly string[];
  readonly rows: number;
  /** One Float64Array per column, in header order. */
  readonly columns: readonly Float64Array[];
}

export function readNumericCsv(path: string): NumericTable {
  const text = readFileSync(path, 'utf8');
  const firstBreak = text.indexOf('\n');
  const names = text.slice(0, firstBreak).trim().split(',');
  const lines = text.slice(firstBreak + 1).split('\n');
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  const rows = lines.length;
  const columns = names.map(() => new Float64Array(rows));
  for (let r = 0; r < rows; r++) {
    const cells = lines[r]!.split(',');
    if (cells.length !== names.length) throw new Error(`${path}: line ${r + 2} has ${cells.length} cells, expected ${names.length}`);
    for (let c = 0; c < names.length; c++) {
      const value = Number(cells[c]);
      if (Number.isNaN(value)) throw new Error(`${path}: line ${r + 2}, column ${names[c]}: '${cells[c]}' is not a number`);
      columns[c]![r] = value;
    }
  }
  return { names, rows, columns };
}

/** Writes columns as a numeric CSV (for handing generated data to the reference implementation). */
export function writeNumericCsv(path: string, names: readonly string[], columns: readonly Float64Array[]): void {
  const rows = columns[0]?.length ?? 0;
  const chunks: string[] = [names.join(',') + '\n'];
  let lines: string[] = [];
  for (let r = 0; r < rows; r++) {
    const cells = new Array<string>(columns.length);
    for (let c = 0; c < columns.length; c++) cells[c] = String(columns[c]![r]);
    lines.push(cells.join(','));
    if (lines.length === 50_000) {
      chunks.push(lines.join('\n') + '\n');
      lines = [];
    }
  }
  if (lines.length > 0) chunks.push(lines.join('\n') + '\n');
  writeFileSync(path, chunks.join(''));
}
