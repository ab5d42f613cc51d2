// label_flip: rows whose label the label model, fitted on the trusted sample, finds implausible
// by the confident-learning rule (another class k with p_k >= t_k and p_k > p_given). Thresholds
// are each batch's own per-class means, pulled toward the fitted ones (see batchThresholds).
// When the model was fitted on the scanned input itself, the rows it was fitted on are judged by
// their out-of-fold probabilities, as every other row is judged by a model that never saw it.
// At the end, the class balance of the scan is compared with the trusted sample's.
import { defineCheck, type CheckContext, type RowFlags } from '../core/check.js';
import type { Batch, DatasetFinding } from '../core/types.js';
import { asModelBundle, missingModelColumns, type ModelBundle } from '../detectors/bundle.js';
import {
  batchThresholds,
  classBalanceShift,
  countLabels,
  encodeLabels,
  findLabelIssues,
  useOutOfFold,
  type LabelModel,
} from '../detectors/label-model.js';
import { BatchScorer } from '../detectors/scoring-tasks.js';
import { detectorSettings, type LabelFlipSettings } from '../detectors/settings.js';
import { addToHistogram, histogramSummary, HISTOGRAM_BINS } from './score-histogram.js';
import { noLabelIn, skippedWhenUnprepared, type Unprepared } from './skipped.js';

export const LABEL_FLIP_REASON = 'label_flip';
export const CLASS_BALANCE_CODE = 'label_flip:class_balance';

interface LabelFlipState {
  readonly rows: number;
  readonly flagged: number;
  /** Labels per class, then one slot for labels the model does not know. */
  readonly counts: Float64Array;
  /** Sum of p(given label) over scored rows, for the mean label quality. */
  readonly qualitySum: number;
  readonly scored: number;
  /** Rows by label quality (p of the given label), in equal bins over [0, 1]. */
  readonly histogram: Float64Array;
  /** Rows judged by their out-of-fold probabilities (the model was fitted on them). */
  readonly outOfFold: number;
}

interface Ready {
  readonly bundle: ModelBundle;
  readonly model: LabelModel;
  readonly label: string;
  readonly settings: LabelFlipSettings;
}

function prepare(context: CheckContext): Ready | Unprepared {
  const unlabelled = noLabelIn(context);
  if (unlabelled !== null) return unlabelled;
  const bundle = asModelBundle(context.model);
  if (bundle === null) return { problem: 'no model bundle was given (fit one with datawarden fit)' };
  if (bundle.labelModel === null || bundle.label === null) return { problem: `the model has no label model: ${bundle.skipped.label_flip ?? 'not fitted'}` };
  const missing = missingModelColumns(bundle, context.input.columns, true);
  if (missing.length > 0) return { problem: `the input lacks column(s) the label model needs: ${missing.join(', ')}` };
  return { bundle, model: bundle.labelModel, label: bundle.label, settings: detectorSettings(context.contract).labelFlip };
}

export const labelFlipCheck = defineCheck({
  meta: {
    id: 'label_flip',
    description: 'Label looks wrong: out-of-sample class probabilities put another class above its confident-learning threshold and above the given label.',
    reasons: {
      [LABEL_FLIP_REASON]: 'another class is more probable than the given label and passes its confident-learning threshold',
    },
    needsModel: true,
  },
  begin: skippedWhenUnprepared('label_flip', 'label-flip detector', prepare),
  create(context) {
    const ready = prepare(context);
    if ('problem' in ready) {
      return {
        run() {},
        state: (): LabelFlipState => ({ rows: 0, flagged: 0, counts: new Float64Array(0), qualitySum: 0, scored: 0, histogram: new Float64Array(HISTOGRAM_BINS), outOfFold: 0 }),
      };
    }
    const K = ready.model.classes.length;
    const counts = new Float64Array(K + 1);
    const histogram = new Float64Array(HISTOGRAM_BINS);
    let rows = 0;
    let flagged = 0;
    let qualitySum = 0;
    let scored = 0;
    let outOfFold = 0;
    const scorer = new BatchScorer(context.threads);
    // Out-of-fold probabilities count only on the input the model was fitted on.
    const fittedRows = context.modelFittedOnInput ? ready.model.outOfFold : undefined;
    // The batch's share of the state, once its probabilities are known.
    const fold = (batch: Batch, flags: RowFlags, reason: number, codes: Int32Array, probabilities: Float64Array): void => {
      if (fittedRows !== undefined) outOfFold += useOutOfFold(probabilities, batch.rowOffset, batch.rowCount, fittedRows);
      const thresholds = batchThresholds(probabilities, codes, ready.model.thresholds, ready.settings.priorRows);
      const issues = findLabelIssues(probabilities, codes, thresholds);
      addToHistogram(histogram, issues.quality);
      if (context.scores) {
        // Rows without a usable label have no label score.
        context.scores.record('label_score', batch, issues.quality.map((q) => (q >= 0 ? q : Number.NaN)));
      }
      for (const r of issues.suspects) flags.flag(r, reason);
      flagged += issues.suspects.length;
      for (const q of issues.quality) {
        if (q >= 0) {
          qualitySum += q;
          scored++;
        }
      }
      rows += batch.rowCount;
    };
    return {
      run(batch, flags) {
        const reason = flags.reason(LABEL_FLIP_REASON);
        const labelColumn = batch.byName.get(ready.label)!;
        const { codes } = encodeLabels(labelColumn, ready.model.classes);
        countLabels(codes, labelColumn, counts);
        return scorer.labels(ready.model, ready.bundle.encoder, batch, (probabilities) => fold(batch, flags, reason, codes, probabilities));
      },
      state: (): LabelFlipState => ({ rows, flagged, counts, qualitySum, scored, histogram, outOfFold }),
    };
  },
  finish(states, context) {
    const ready = prepare(context);
    if ('problem' in ready) return { summary: { skipped: ready.problem } };
    const parts = states as readonly LabelFlipState[];
    const K = ready.model.classes.length;
    const counts = new Float64Array(K + 1);
    for (const part of parts) for (let k = 0; k <= K && k < part.counts.length; k++) counts[k] = counts[k]! + part.counts[k]!;
    const rows = parts.reduce((sum, p) => sum + p.rows, 0);
    const flagged = parts.reduce((sum, p) => sum + p.flagged, 0);
    const scored = parts.reduce((sum, p) => sum + p.scored, 0);
    const qualitySum = parts.reduce((sum, p) => sum + p.qualitySum, 0);
    const shift = classBalanceShift(ready.model.classes, ready.model.classCounts, counts);
    const { warn, fail, alpha } = ready.settings.balance;
    const findings: DatasetFinding[] = [];
    // A shift counts when it is large and more than chance allows at this many rows.
    if (shift.totalVariation >= warn && shift.observedRows > 0 && shift.pValue < alpha) {
      findings.push({
        check: 'label_flip',
        code: CLASS_BALANCE_CODE,
        severity: shift.totalVariation >= fail ? 'fail' : 'warn',
        message: `class balance moved from the trusted sample's by ${shift.totalVariation.toFixed(3)} (total variation; warn ${warn}, fail ${fail}); '${shift.mostShifted}' moved most (${(shift.maxShift * 100).toFixed(1)} points)`,
        details: { ...shift },
      });
    }
    return {
      findings,
      summary: {
        rows,
        flagged,
        share: rows > 0 ? flagged / rows : 0,
        meanLabelQuality: scored > 0 ? qualitySum / scored : null,
        // Rows of the input the model was fitted on, judged by out-of-fold probabilities.
        outOfFoldRows: parts.reduce((sum, p) => sum + p.outOfFold, 0),
        // Share of its fitting rows the rule flagged out of fold (false alarms, on trusted rows).
        fitFlaggedShare: ready.model.fitFlagged,
        labelQualityHistogram: histogramSummary(parts.map((p) => p.histogram)),
        thresholds: Object.fromEntries(ready.model.classes.map((c, k) => [c, ready.model.thresholds[k]])),
        classBalance: shift,
      },
    };
  },
});
