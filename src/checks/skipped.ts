// A detector that cannot run (no model, a column the model needs is missing) says so once, as a
// dataset-level warning, and flags nothing. One that has nothing to look at (a baseline that is a
// sample of the input itself, data without labels) says so as information, which does not weigh
// in the verdict.
import type { CheckContext } from '../core/check.js';
import type { DatasetFinding, Severity } from '../core/types.js';

/** Why a detector does not run; `severity` defaults to warn. */
export interface Unprepared {
  readonly problem: string;
  readonly severity?: Severity;
}

/** The begin() of a detector whose prepare() answers an Unprepared when it cannot run. */
export function skippedWhenUnprepared(
  id: string,
  name: string,
  prepare: (context: CheckContext) => object,
): (context: CheckContext) => DatasetFinding[] {
  return (context) => {
    const ready = prepare(context);
    if (!('problem' in ready)) return [];
    const { problem, severity = 'warn' } = ready as Unprepared;
    return [{ check: id, code: `${id}:skipped`, severity, message: `${name} skipped: ${problem}` }];
  };
}

/**
 * Drift and triggers compare the scan with the trusted sample. A model fitted on a sample of the
 * input itself makes that a comparison of the input with itself, which can find nothing.
 */
export function noBaselineOf(context: CheckContext, what: string): Unprepared | null {
  if (!context.modelFittedOnInput) return null;
  return {
    problem: `the model was fitted on a sample of this input (no --baseline or --model), so ${what}; give trusted data to look`,
    severity: 'info',
  };
}

/**
 * The label detectors have nothing to look at in data without labels: a contract that names no
 * label column is told as information, so that scans of unlabelled data can pass.
 */
export function noLabelIn(context: CheckContext): Unprepared | null {
  if (context.contract.label !== undefined && context.contract.label !== null) return null;
  return { problem: 'the contract names no label column, so there are no labels to check', severity: 'info' };
}
