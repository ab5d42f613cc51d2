import { writeFileAtomic } from '../../io/atomic.js';
import { inferContract } from '../../contract/infer.js';
import { validateContract } from '../../contract/load.js';
import { numberOption, stringOption, type Command } from '../command.js';

export const inferCommand: Command = {
  name: 'infer',
  summary: 'Write a contract inferred from trusted data',
  usage: 'infer <trusted dataset> [--label C] [--id C] [--source C] [--out FILE]',
  positionals: [1, 1],
  options: {
    label: { type: 'string', help: 'the label column (its classes become the allowed values)' },
    id: { type: 'string', help: 'a column that identifies rows (must be unique)' },
    source: { type: 'string', help: 'a column naming the feed each row came from' },
    name: { type: 'string', help: "the dataset name (default: the file's base name)" },
    out: { type: 'string', help: 'write the contract here (default: stdout)' },
    margin: { type: 'string', help: 'widen observed min/max by this fraction of their range (default 0.1)' },
    'max-categories': { type: 'string', help: 'list allowed values for string columns with at most this many (default 20)' },
    'gate-pass': { type: 'string', help: 'maximum quarantined fraction for a pass verdict (default 0.01)' },
    'gate-warn': { type: 'string', help: 'maximum quarantined fraction for a warn verdict (default 0.05)' },
  },
  details: `Types come from the file; CSV and JSON Lines are type-detected over the whole file.
Columns without nulls become non-nullable; numeric bounds are the observed ones widened by
--margin; timestamps get a lower bound only, since new data is newer.`,
  async run([input], values, { stdout, stderr }) {
    const pass = numberOption(values, 'gate-pass');
    const warn = numberOption(values, 'gate-warn');
    const gate = pass !== undefined || warn !== undefined ? { pass: pass ?? 0.01, warn: warn ?? Math.max(0.05, pass ?? 0) } : undefined;
    // The gate is checked before the file is read, and as the options that set it.
    if (gate !== undefined) validateContract({ name: 'gate', gate, columns: [{ name: 'x', type: 'int' }] }, '--gate-pass/--gate-warn');
    const contract = await inferContract(input!, {
      label: stringOption(values, 'label'),
      id: stringOption(values, 'id'),
      source: stringOption(values, 'source'),
      name: stringOption(values, 'name'),
      margin: numberOption(values, 'margin'),
      maxCategories: numberOption(values, 'max-categories'),
      gate,
      onNote: (message) => stderr.write(`warning: ${message}\n`),
    });
    validateContract(contract, input);
    const text = `${JSON.stringify(contract, null, 2)}\n`;
    const out = stringOption(values, 'out');
    if (out) {
      await writeFileAtomic(out, text);
      stdout.write(`wrote ${out} (${contract.columns.length} columns)\n`);
    } else {
      stdout.write(text);
    }
    return 0;
  },
};
