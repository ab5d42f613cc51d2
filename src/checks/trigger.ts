// trigger: backdoor triggers, feature values rare or absent in the trusted sample that are
// frequent in the scan and almost always carry one label. Counts accumulate batch by batch (and
// per worker); the decision needs every row, so rows are flagged in the routing pass.
import { defineCheck, type CheckContext, type RowFlags } from '../core/check.js';
import type { Batch, DatasetFinding } from '../core/types.js';
import { asModelBundle, type ModelBundle } from '../detectors/bundle.js';
import { detectorSettings, type TriggerSettings } from '../detectors/settings.js';
import { TriggerAccumulator, triggerFigures, triggerReason, triggerRows, type Trigger, type TriggerBaseline, type TriggerState } from '../detectors/triggers.js';
import { noBaselineOf, noLabelIn, skippedWhenUnprepared, type Unprepared } from './skipped.js';

/** Triggers listed in one finding and the summary, strongest first. */
const MAX_REPORTED = 50;

interface Ready {
  readonly bundle: ModelBundle;
  readonly baseline: TriggerBaseline;
  readonly label: string;
  readonly settings: TriggerSettings;
}

function prepare(context: CheckContext): Ready | Unprepared {
  const unlabelled = noLabelIn(context);
  if (unlabelled !== null) return unlabelled;
  const bundle = asModelBundle(context.model);
  if (bundle === null) return { problem: 'no model bundle was given (fit one with datawarden fit)' };
  const itself = noBaselineOf(context, 'a trigger in it would be as common in the baseline');
  if (itself !== null) return itself;
  if (bundle.triggerBaseline === null || bundle.label === null) return { problem: `the model has no trigger baseline: ${bundle.skipped.trigger ?? 'not fitted'}` };
  if (!context.input.columns.some((c) => c.name === bundle.label)) return { problem: `the input has no label column '${bundle.label}'` };
  return { bundle, baseline: bundle.triggerBaseline, label: bundle.label, settings: detectorSettings(context.contract).trigger };
}

export const triggerCheck = defineCheck({
  meta: {
    id: 'trigger',
    description: 'Backdoor trigger: a value rare or absent in the trusted sample, frequent in this data, almost always paired with one label.',
    reasons: {
      'trigger:<column>=<value>': 'the row carries a suspected backdoor trigger (a value, a number or a narrow range of <column>) and the label it pairs with',
    },
    needsModel: true,
    flagsAtEnd: true,
  },
  begin: skippedWhenUnprepared('trigger', 'trigger detector', prepare),
  create(context) {
    const ready = prepare(context);
    if ('problem' in ready) {
      return {
        run() {},
        state: () => null,
      };
    }
    const accumulator = new TriggerAccumulator(ready.baseline, ready.label);
    return {
      run(batch) {
        accumulator.add(batch);
      },
      state: (): TriggerState => accumulator.toState(),
    };
  },
  finish(states, context) {
    const ready = prepare(context);
    if ('problem' in ready) return { summary: { skipped: ready.problem } };
    const merged = new TriggerAccumulator(ready.baseline, ready.label);
    for (const state of states) if (state) merged.merge(TriggerAccumulator.fromState(ready.baseline, ready.label, state as TriggerState));
    const s = ready.settings;
    const { triggers, suppressed } = merged.decideWithDrift({ minRows: s.minRows, minShare: s.minShare, minLift: s.minLift, minPurity: s.minPurity, alpha: s.alpha, maxPerColumn: s.maxPerColumn });
    // Rows are flagged in the routing pass, which sees every row again: the same rows whichever
    // batch or worker counted them. It also counts each trigger's rows exactly: a value in a bin
    // was decided on the rows its vote was sure of, which depend on how the rows were split up.
    const reasons = triggers.map(triggerReason);
    const K = ready.baseline.classes.length;
    const carrying = new Float64Array(triggers.length * K);
    const flagRows = (batch: Batch, flags: RowFlags): void => {
      const found = triggerRows(batch, triggers, ready.baseline, merged.labelCodes(batch));
      const ids = reasons.map((reason) => flags.reason(reason));
      for (let k = 0; k < found.rows.length; k++) flags.flag(found.rows[k]!, ids[found.trigger[k]!]!);
      for (let i = 0; i < carrying.length; i++) carrying[i] = carrying[i]! + found.carrying[i]!;
    };
    const counted = (): Trigger[] =>
      triggers.map((t, i) => ({
        ...t,
        ...triggerFigures({ rows: carrying.subarray(i * K, (i + 1) * K), baselineRows: t.baselineRows, scanned: merged.rows, baseline: ready.baseline.rows }, ready.baseline.classes, t.labelCode),
      }));
    const described = (list: readonly Trigger[]) => {
      const reported = list.slice(0, MAX_REPORTED).map((t) => ({
        reason: triggerReason(t),
        label: t.label,
        rows: t.rows,
        share: t.share,
        baselineShare: t.baselineShare,
        lift: t.lift,
        purity: t.purity,
      }));
      const findings: DatasetFinding[] =
        list.length === 0
          ? []
          : [
              {
                check: 'trigger',
                code: 'trigger:found',
                severity: 'warn',
                message: `${list.length} suspected backdoor trigger(s): ${reported
                  .slice(0, 5)
                  .map((t) => `${t.reason} -> '${t.label}' (${t.rows} rows)`)
                  .join('; ')}${list.length > 5 ? '; ...' : ''}`,
                details: { triggers: reported },
              },
            ];
      return {
        findings,
        summary: {
          rows: merged.rows,
          triggers: reported,
          // Columns with too many candidates to be a trigger: drift (see the drift check), not flagged.
          suppressedColumns: suppressed,
        },
      };
    };
    return {
      ...described(triggers),
      // Without a trigger there is nothing to flag at the end, and rows routed as they were
      // checked stay where they are.
      ...(triggers.length > 0 ? { flagRows, afterRouting: () => described(counted()) } : {}),
    };
  },
});
