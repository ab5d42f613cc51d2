// A detector that cannot run (no model, a column the model needs is missing) says so once, as a
// dataset-level warning, and flags nothing.
import type { CheckContext } from '../core/check.js';
import type { DatasetFinding } from '../core/types.js';

/** The begin() of a detector whose prepare() answers { problem } when it cannot run. */
export function skippedWhenUnprepared(
  id: string,
  name: string,
  prepare: (context: CheckContext) => object,
): (context: CheckContext) => DatasetFinding[] {
  return (context) => {
    const ready = prepare(context);
    if (!('problem' in ready)) return [];
    return [{ check: id, code: `${id}:skipped`, severity: 'warn', message: `${name} skipped: ${String(ready.problem)}` }];
  };
}
