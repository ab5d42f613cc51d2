// schema: the file has the contract's columns, and every value has its column's type.
import { defineCheck } from '../core/check.js';
import type { DatasetFinding } from '../core/types.js';

export const schemaCheck = defineCheck({
  meta: {
    id: 'schema',
    description: "Columns match the contract; values have their column's type; no nulls where the contract forbids them.",
    reasons: {
      'schema:missing:<column>': 'A required column is missing from the file. Dataset-level: every row is held back.',
      'schema:extra:<column>': 'The file has a column the contract does not name. Dataset-level warning; no row is held.',
      'schema:type:<column>': 'The value has the wrong type (a typed column of another type, a JSON value of another JSON type).',
      'schema:unparseable:<column>': "The text does not parse as the column's type.",
      'schema:null:<column>': 'A null in a column the contract declares non-nullable.',
      'schema:empty': 'The file has no rows: often a broken export. Dataset-level warning.',
    },
  },
  begin({ contract, input }) {
    const present = new Set(input.columns.map((c) => c.name));
    const findings: DatasetFinding[] = [];
    for (const column of contract.columns) {
      if (column.required !== false && !present.has(column.name)) {
        findings.push({
          check: 'schema', code: `schema:missing:${column.name}`, severity: 'fail', holdAllRows: true,
          message: `required column '${column.name}' is missing from ${input.path}`,
        });
      }
    }
    if (!contract.allowExtraColumns) {
      const known = new Set(contract.columns.map((c) => c.name));
      for (const column of input.columns) {
        if (!known.has(column.name)) {
          findings.push({
            check: 'schema', code: `schema:extra:${column.name}`, severity: 'warn',
            message: `column '${column.name}' is not in the contract`,
          });
        }
      }
    }
    return findings;
  },
  create({ contract, input }) {
    const present = new Set(input.columns.map((c) => c.name));
    // The label check owns missing labels; flagging them here too would say the same thing twice.
    const nonNullable = contract.columns.filter((c) => c.nullable === false && c.name !== contract.label && present.has(c.name));
    const declared = contract.columns.filter((c) => present.has(c.name));
    let rows = 0;
    return {
      run(batch, flags) {
        rows += batch.rowCount;
        for (const declaredColumn of declared) {
          const column = batch.byName.get(declaredColumn.name)!;
          if (column.bad !== null) {
            const reason = flags.reason(`schema:${column.badKind ?? 'type'}:${column.name}`);
            const bad = column.bad;
            for (let i = 0; i < batch.rowCount; i++) if (bad[i] === 1) flags.flag(i, reason);
          }
        }
        for (const declaredColumn of nonNullable) {
          const column = batch.byName.get(declaredColumn.name)!;
          if (column.valid === null) continue;
          const reason = flags.reason(`schema:null:${column.name}`);
          const { valid, bad } = column;
          for (let i = 0; i < batch.rowCount; i++) {
            if (valid[i] === 0 && (bad === null || bad[i] === 0)) flags.flag(i, reason);
          }
        }
      },
      state: () => rows,
    };
  },
  finish(states, { input }) {
    const rows = states.reduce((sum: number, n) => sum + ((n as number | undefined) ?? 0), 0);
    if (rows > 0) return {};
    return { findings: [{ check: 'schema', code: 'schema:empty', severity: 'warn', message: `${input.path} has no rows` }] };
  },
});
