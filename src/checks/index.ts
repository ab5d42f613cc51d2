// Every check datawarden runs, in the order they run and list their reasons.
import type { CheckDefinition } from '../core/check.js';
import { InputError } from '../core/errors.js';
import { duplicateCheck } from './duplicate.js';
import { labelCheck } from './label.js';
import { rangeCheck } from './range.js';
import { schemaCheck } from './schema.js';
import { sourceCheck } from './source.js';
import { outlierCheck } from './outlier.js';
import { labelFlipCheck } from './label-flip.js';
import { triggerCheck } from './trigger.js';
import { driftCheck } from './drift.js';

/** Rule checks: what a contract can state. */
export const RULE_CHECKS: readonly CheckDefinition[] = [schemaCheck, rangeCheck, labelCheck, duplicateCheck, sourceCheck];
/** Detectors: fitted on trusted data (see pipeline/fit.ts). */
export const DETECTOR_CHECKS: readonly CheckDefinition[] = [outlierCheck, labelFlipCheck, triggerCheck, driftCheck];
export const CHECKS: readonly CheckDefinition[] = [...RULE_CHECKS, ...DETECTOR_CHECKS];

/** The checks named by `--checks id,id`, in registry order; all of them when none are named. */
export function selectChecks(ids?: readonly string[]): CheckDefinition[] {
  if (!ids || ids.length === 0) return [...CHECKS];
  const known = new Set(CHECKS.map((c) => c.meta.id));
  for (const id of ids) {
    if (!known.has(id)) throw new InputError(`unknown check '${id}' (known: ${[...known].join(', ')})`, { subject: '--checks' });
  }
  return CHECKS.filter((c) => ids.includes(c.meta.id));
}
