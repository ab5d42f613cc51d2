import { parseFormat } from '../../io/formats.js';
import { stringOption, type Command } from '../command.js';

export const convertCommand: Command = {
  name: 'convert',
  summary: 'Convert a dataset between Parquet, Arrow IPC, CSV and JSON Lines, keeping types',
  usage: 'convert <in> <out> [--format F]',
  positionals: [2, 2],
  options: {
    format: { type: 'string', help: "output format (default: from <out>'s extension)" },
  },
  details: 'Formats follow the extensions: .parquet, .arrow/.feather (IPC file), .arrows (IPC stream), .csv, .jsonl/.ndjson.',
  async run([input, output], values, { stdout }) {
    const format = stringOption(values, 'format');
    // Loaded here, not with the command list: it loads DuckDB, which other commands may not need.
    const { convert } = await import('../../pipeline/convert.js');
    const result = await convert(input!, output!, format ? parseFormat(format) : undefined);
    stdout.write(`wrote ${output} (${result.rows} rows, ${result.from} -> ${result.to})\n`);
    return 0;
  },
};
