// range: values fall within the contract's bounds, allowed values and patterns.
import { boundValue, type ColumnContract } from '../core/contract.js';
import { defineCheck, type RowFlags } from '../core/check.js';
import type { Column } from '../core/types.js';

export const rangeCheck = defineCheck({
  meta: {
    id: 'range',
    description: 'Values lie within min/max, belong to the allowed values, and match the pattern.',
    reasons: {
      'range:<column>': 'The value is out of bounds (NaN included), not an allowed value, or does not match the pattern.',
    },
  },
  create({ contract, input }) {
    const present = new Set(input.columns.map((c) => c.name));
    // The label column's allowed values are its classes; the label check owns them.
    const constrained = contract.columns.filter(
      (c) => present.has(c.name) && c.name !== contract.label &&
        (c.min !== undefined || c.max !== undefined || c.allowed !== undefined || c.pattern !== undefined),
    );
    const testers = constrained.map((c) => ({ name: c.name, test: compileTest(c) }));
    return {
      run(batch, flags) {
        for (const { name, test } of testers) {
          const column = batch.byName.get(name)!;
          test(column, batch.rowCount, flags, flags.reason(`range:${name}`));
        }
      },
    };
  },
});

type ColumnTest = (column: Column, rowCount: number, flags: RowFlags, reason: number) => void;

/** Builds one tight loop per constrained column; only valid values are tested. */
export function compileTest(spec: ColumnContract): ColumnTest {
  if (spec.type === 'string') {
    const allowed = spec.allowed ? new Set(spec.allowed.map(String)) : null;
    const pattern = spec.pattern !== undefined ? new RegExp(`^(?:${spec.pattern})$`, 'u') : null;
    return (column, rowCount, flags, reason) => {
      if (column.type !== 'string') return;
      const { values, valid } = column;
      const verdicts = new Map<string, boolean>();
      for (let i = 0; i < rowCount; i++) {
        if (valid !== null && valid[i] === 0) continue;
        const value = values[i]!;
        let ok = verdicts.get(value);
        if (ok === undefined) {
          ok = (allowed === null || allowed.has(value)) && (pattern === null || pattern.test(value));
          if (verdicts.size < 65536) verdicts.set(value, ok);
        }
        if (!ok) flags.flag(i, reason);
      }
    };
  }
  if (spec.type === 'bool') {
    const allowTrue = !spec.allowed || spec.allowed.includes(true);
    const allowFalse = !spec.allowed || spec.allowed.includes(false);
    return (column, rowCount, flags, reason) => {
      if (column.type !== 'bool') return;
      const { values, valid } = column;
      for (let i = 0; i < rowCount; i++) {
        if (valid !== null && valid[i] === 0) continue;
        if (values[i] === 1 ? !allowTrue : !allowFalse) flags.flag(i, reason);
      }
    };
  }
  const min = spec.min !== undefined ? boundValue(spec, spec.min) : Number.NEGATIVE_INFINITY;
  const max = spec.max !== undefined ? boundValue(spec, spec.max) : Number.POSITIVE_INFINITY;
  const bounded = spec.min !== undefined || spec.max !== undefined;
  const allowed = spec.allowed ? new Set(spec.allowed.map((v) => boundValue(spec, v as number | string))) : null;
  if (allowed === null && bounded) {
    // The common case, kept to one comparison pair a value: bounds only.
    return (column, rowCount, flags, reason) => {
      if (column.type === 'string' || column.type === 'bool') return;
      const { values, valid } = column;
      // Written so that NaN fails the bounds: every comparison with NaN is false.
      if (valid === null) {
        for (let i = 0; i < rowCount; i++) {
          const value = values[i]!;
          if (!(value >= min && value <= max)) flags.flag(i, reason);
        }
        return;
      }
      for (let i = 0; i < rowCount; i++) {
        const value = values[i]!;
        if (!(value >= min && value <= max) && valid[i] === 1) flags.flag(i, reason);
      }
    };
  }
  return (column, rowCount, flags, reason) => {
    if (column.type === 'string' || column.type === 'bool') return;
    const { values, valid } = column;
    for (let i = 0; i < rowCount; i++) {
      if (valid !== null && valid[i] === 0) continue;
      const value = values[i]!;
      if ((bounded && !(value >= min && value <= max)) || (allowed !== null && !allowed.has(value))) flags.flag(i, reason);
    }
  };
}
