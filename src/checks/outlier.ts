// outlier: rows the isolation forest fitted on the trusted sample finds easy to isolate, scoring
// above the threshold taken from the baseline's own scores (detectors.outlier.quantile or
// detectors.outlier.contamination in the contract).
import { defineCheck, type CheckContext } from '../core/check.js';
import { asModelBundle, missingModelColumns, outlierThreshold, type ModelBundle, type OutlierModel } from '../detectors/bundle.js';
import { BatchScorer } from '../detectors/scoring-tasks.js';
import { detectorSettings } from '../detectors/settings.js';
import { addToHistogram, histogramSummary, HISTOGRAM_BINS } from './score-histogram.js';
import { skippedWhenUnprepared } from './skipped.js';

export const OUTLIER_REASON = 'outlier';

interface OutlierState {
  readonly rows: number;
  readonly flagged: number;
  readonly maxScore: number;
  /** Rows by score, in equal bins over [0, 1]. */
  readonly histogram: Float64Array;
}

interface Ready {
  readonly bundle: ModelBundle;
  readonly outlier: OutlierModel;
  readonly threshold: number;
}

/** The fitted forest and threshold, or why the check cannot run. */
function prepare(context: CheckContext): Ready | { readonly problem: string } {
  const bundle = asModelBundle(context.model);
  if (bundle === null) return { problem: 'no model bundle was given (fit one with datawarden fit)' };
  if (bundle.outlier === null) return { problem: `the model has no outlier forest: ${bundle.skipped.outlier ?? 'not fitted'}` };
  const missing = missingModelColumns(bundle, context.input.columns, false);
  if (missing.length > 0) return { problem: `the input lacks column(s) the forest was fitted on: ${missing.join(', ')}` };
  const threshold = outlierThreshold(bundle.outlier, bundle.parameters.outlier, detectorSettings(context.contract).outlier);
  return { bundle, outlier: bundle.outlier, threshold };
}

export const outlierCheck = defineCheck({
  meta: {
    id: 'outlier',
    description: 'Isolation-forest anomaly score (Liu, Ting & Zhou 2008) above the threshold set on the trusted sample.',
    reasons: {
      [OUTLIER_REASON]: "the row's isolation-forest score is above the baseline threshold",
    },
    needsModel: true,
  },
  begin: skippedWhenUnprepared('outlier', 'outlier detector', prepare),
  create(context) {
    const ready = prepare(context);
    if ('problem' in ready) {
      return {
        run() {},
        state: (): OutlierState => ({ rows: 0, flagged: 0, maxScore: 0, histogram: new Float64Array(HISTOGRAM_BINS) }),
      };
    }
    let rows = 0;
    let flagged = 0;
    let maxScore = 0;
    const histogram = new Float64Array(HISTOGRAM_BINS);
    const scorer = new BatchScorer(context.threads);
    return {
      run(batch, flags) {
        const reason = flags.reason(OUTLIER_REASON);
        const fold = (scores: Float64Array): void => {
          context.scores?.record('outlier_score', batch, scores);
          addToHistogram(histogram, scores);
          for (let r = 0; r < scores.length; r++) {
            const score = scores[r]!;
            if (score > maxScore) maxScore = score;
            if (score > ready.threshold) {
              flags.flag(r, reason);
              flagged++;
            }
          }
          rows += batch.rowCount;
        };
        return scorer.outliers(ready.outlier.forest, ready.bundle.encoder, batch, fold);
      },
      state: (): OutlierState => ({ rows, flagged, maxScore, histogram }),
    };
  },
  finish(states, context) {
    const parts = states as readonly OutlierState[];
    const ready = prepare(context);
    const rows = parts.reduce((sum, p) => sum + p.rows, 0);
    const flagged = parts.reduce((sum, p) => sum + p.flagged, 0);
    if ('problem' in ready) return { summary: { skipped: ready.problem } };
    return {
      summary: {
        rows,
        flagged,
        share: rows > 0 ? flagged / rows : 0,
        threshold: ready.threshold,
        maxScore: Math.max(0, ...parts.map((p) => p.maxScore)),
        scoreHistogram: histogramSummary(parts.map((p) => p.histogram)),
        trees: ready.outlier.forest.trees,
        sampleSize: ready.outlier.forest.sampleSize,
      },
    };
  },
});
