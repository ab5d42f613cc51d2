// label: every row has a label, and it is one of the contract's classes.
import { defineCheck } from '../core/check.js';

export const labelCheck = defineCheck({
  meta: {
    id: 'label',
    description: "The label column holds a value on every row, and it is one of the label column's allowed classes.",
    reasons: {
      'label:<column>': 'The label is missing, unreadable, or not one of the allowed classes.',
    },
  },
  create({ contract, input }) {
    const name = contract.label;
    const spec = contract.columns.find((c) => c.name === name);
    if (!name || !spec || !input.columns.some((c) => c.name === name)) return { run() {} };
    const classes = spec.allowed ? new Set(spec.allowed.map((v) => (typeof v === 'boolean' ? (v ? 1 : 0) : v))) : null;
    return {
      run(batch, flags) {
        const column = batch.byName.get(name)!;
        const reason = flags.reason(`label:${name}`);
        const { valid } = column;
        for (let i = 0; i < batch.rowCount; i++) {
          if (valid !== null && valid[i] === 0) {
            flags.flag(i, reason);
          } else if (classes !== null && !classes.has(column.values[i]!)) {
            flags.flag(i, reason);
          }
        }
      },
    };
  },
});
