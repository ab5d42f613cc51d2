// drift: each feature column's distribution against the trusted sample's. Numeric columns by
// the population stability index, categorical ones by Jensen-Shannon distance and the largest
// change of one category's share. Dataset-level: findings with warn or fail, no rows flagged.
import { defineCheck, type CheckContext } from '../core/check.js';
import type { DatasetFinding } from '../core/types.js';
import { asModelBundle } from '../detectors/bundle.js';
import { DriftAccumulator, type DriftBaseline } from '../detectors/drift.js';
import { detectorSettings, type DriftSettings } from '../detectors/settings.js';
import { noBaselineOf, skippedWhenUnprepared, type Unprepared } from './skipped.js';

interface Ready {
  readonly baseline: DriftBaseline;
  readonly settings: DriftSettings;
}

function prepare(context: CheckContext): Ready | Unprepared {
  const bundle = asModelBundle(context.model);
  if (bundle === null) return { problem: 'no model bundle was given (fit one with datawarden fit)' };
  const itself = noBaselineOf(context, 'the input is compared with itself and cannot have drifted');
  if (itself !== null) return itself;
  if (bundle.driftBaseline === null) return { problem: `the model has no drift baseline: ${bundle.skipped.drift ?? 'not fitted'}` };
  return { baseline: bundle.driftBaseline, settings: detectorSettings(context.contract).drift };
}

export const driftCheck = defineCheck({
  meta: {
    id: 'drift',
    description: "A feature column's distribution moved away from the trusted sample's (PSI for numbers; Jensen-Shannon distance and L-infinity for categories).",
    reasons: {},
    needsModel: true,
  },
  begin: skippedWhenUnprepared('drift', 'drift detector', prepare),
  create(context) {
    const ready = prepare(context);
    if ('problem' in ready) {
      return {
        run() {},
        state: () => null,
      };
    }
    const accumulator = new DriftAccumulator(ready.baseline);
    return {
      run(batch) {
        accumulator.add(batch);
      },
      // Plain arrays: they add up across workers in finish().
      state: (): number[][] => accumulator.toJson(),
    };
  },
  finish(states, context) {
    const ready = prepare(context);
    if ('problem' in ready) return { summary: { skipped: ready.problem } };
    const merged = new DriftAccumulator(ready.baseline);
    for (const state of states) if (state) merged.merge(DriftAccumulator.fromJson(ready.baseline, state));
    const s = ready.settings;
    const results = merged.result({ psi: s.psi, js: s.js, linf: s.linf, minRows: s.minRows, alpha: s.alpha });
    const findings: DatasetFinding[] = [];
    for (const d of results) {
      if (d.severity !== 'warn' && d.severity !== 'fail') continue;
      const statistic = d.decidedBy!;
      const value = statistic === 'psi' ? d.psi : statistic === 'js' ? d.js : d.linf;
      const limits = s[statistic];
      findings.push({
        check: 'drift',
        code: `drift:${d.column}`,
        severity: d.severity,
        message: `column '${d.column}' drifted: ${statistic === 'psi' ? 'PSI' : statistic === 'js' ? 'Jensen-Shannon distance' : 'largest share change'} ${value.toFixed(3)} (warn ${limits.warn}, fail ${limits.fail})`,
        details: { column: d.column, kind: d.kind, rows: d.rows, psi: d.psi, js: d.js, linf: d.linf, pValue: d.pValue },
      });
    }
    return {
      findings,
      summary: {
        thresholds: { psi: s.psi, js: s.js, linf: s.linf, alpha: s.alpha },
        columns: Object.fromEntries(
          results.map((d) => [d.column, { kind: d.kind, rows: d.rows, psi: d.psi, js: d.js, linf: d.linf, pValue: d.pValue, severity: d.severity, withinChance: d.withinChance }]),
        ),
      },
    };
  },
});
