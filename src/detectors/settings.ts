// The detector settings a contract may give (its `detectors` and `drift` sections), resolved
// against the defaults and checked. Keys are documented in docs/detectors.md.
import type { Contract } from '../core/contract.js';
import { InputError } from '../core/errors.js';

export interface OutlierSettings {
  readonly enabled: boolean;
  readonly trees: number;
  readonly sampleSize: number;
  /** Baseline score quantile used as the threshold (default 0.995). */
  readonly quantile: number;
  /** When set, the threshold flags this share of the baseline instead of using `quantile`. */
  readonly contamination: number | null;
  /** Most rows of the fitting sample the forest and its threshold use (default 100,000). */
  readonly maxFitRows: number;
}

export interface LabelFlipSettings {
  readonly enabled: boolean;
  readonly folds: number;
  readonly trees: number;
  readonly minLeaf: number;
  /** Pseudo-rows pulling a batch's thresholds toward the fitted ones (default 20). */
  readonly priorRows: number;
  /** Most rows of the fitting sample the label model uses (default 20,000). */
  readonly maxFitRows: number;
  /**
   * Fitted on trusted rows, the most of them the rule may flag out of fold (false alarms, since
   * their labels are right) before the detector is skipped (default 0.1).
   */
  readonly maxFalseAlarms: number;
  /** Fitted on the scanned data itself, the most of its sample the rule may flag out of fold (default 0.3). */
  readonly maxSelfFlagged: number;
  /** Most label classes the detector takes on (default 100); more, and it is skipped. */
  readonly maxClasses: number;
  /**
   * Class-balance shift (total variation distance) that warns / fails, counted only when a
   * chi-square test puts the chance of so large a shift in unchanged data below `alpha`.
   */
  readonly balance: { readonly warn: number; readonly fail: number; readonly alpha: number };
}

export interface TriggerSettings {
  readonly enabled: boolean;
  readonly bins: number;
  readonly discreteValues: number;
  readonly minRows: number;
  readonly minShare: number;
  readonly minLift: number;
  readonly minPurity: number;
  readonly alpha: number;
  readonly maxPerColumn: number;
  /** Most label classes the detector takes on (default 100); more, and it is skipped. */
  readonly maxClasses: number;
}

export interface DriftSettings {
  readonly enabled: boolean;
  readonly bins: number;
  readonly maxCategories: number;
  readonly minRows: number;
  readonly psi: { readonly warn: number; readonly fail: number };
  readonly js: { readonly warn: number; readonly fail: number };
  readonly linf: { readonly warn: number; readonly fail: number };
  /** Chance that a scan of unchanged data warns on any column (chi-square, split over the columns). */
  readonly alpha: number;
}

export interface DetectorSettings {
  readonly outlier: OutlierSettings;
  readonly labelFlip: LabelFlipSettings;
  readonly trigger: TriggerSettings;
  readonly drift: DriftSettings;
}

type Section = Readonly<Record<string, unknown>> | undefined;

function section(parent: Section, key: string, path: string): Section {
  const value = parent?.[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InputError('must be an object', { subject: `${path}.${key}` });
  return value as Record<string, unknown>;
}

function number(parent: Section, key: string, path: string, fallback: number, check: (v: number) => boolean, rule: string): number {
  const value = parent?.[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || !check(value)) throw new InputError(`must be ${rule}, got ${JSON.stringify(value)}`, { subject: `${path}.${key}` });
  return value;
}

function flag(parent: Section, key: string, path: string): boolean {
  const value = parent?.[key];
  if (value === undefined) return true;
  if (typeof value !== 'boolean') throw new InputError(`must be true or false, got ${JSON.stringify(value)}`, { subject: `${path}.${key}` });
  return value;
}

const positiveInteger = [(v: number) => Number.isInteger(v) && v >= 1, 'a positive integer'] as const;
const integerFromTwo = [(v: number) => Number.isInteger(v) && v >= 2, 'an integer >= 2'] as const;
const share = [(v: number) => v > 0 && v < 1, 'a number between 0 and 1 (exclusive)'] as const;
/** A share that may be 1 (for a limit, 1 lets every share through). */
const shareUpToAll = [(v: number) => v > 0 && v <= 1, 'a number in (0, 1]'] as const;
const nonNegative = [(v: number) => v >= 0, 'a number >= 0'] as const;

function warnFail(parent: Section, key: string, path: string, warn: number, fail: number): { warn: number; fail: number } {
  const s = section(parent, key, path);
  const p = `${path}.${key}`;
  const resolved = { warn: number(s, 'warn', p, warn, ...nonNegative), fail: number(s, 'fail', p, fail, ...nonNegative) };
  if (resolved.fail < resolved.warn) throw new InputError(`fail (${resolved.fail}) must not be below warn (${resolved.warn})`, { subject: p });
  return resolved;
}

export function detectorSettings(contract: Contract): DetectorSettings {
  const detectors = contract.detectors as Section;
  const o = section(detectors, 'outlier', 'detectors');
  const l = section(detectors, 'label_flip', 'detectors');
  const t = section(detectors, 'trigger', 'detectors');
  const d = contract.drift as Section;
  const contamination = o?.contamination === undefined ? null : number(o, 'contamination', 'detectors.outlier', 0, ...share);
  return {
    outlier: {
      enabled: flag(o, 'enabled', 'detectors.outlier'),
      trees: number(o, 'trees', 'detectors.outlier', 100, ...positiveInteger),
      sampleSize: number(o, 'sampleSize', 'detectors.outlier', 256, (v) => Number.isInteger(v) && v >= 2 && v <= 65536, 'an integer in [2, 65536]'),
      quantile: number(o, 'quantile', 'detectors.outlier', 0.995, ...share),
      contamination,
      maxFitRows: number(o, 'maxFitRows', 'detectors.outlier', 100_000, ...positiveInteger),
    },
    labelFlip: {
      enabled: flag(l, 'enabled', 'detectors.label_flip'),
      folds: number(l, 'folds', 'detectors.label_flip', 5, ...integerFromTwo),
      trees: number(l, 'trees', 'detectors.label_flip', 50, ...positiveInteger),
      minLeaf: number(l, 'minLeaf', 'detectors.label_flip', 3, ...positiveInteger),
      priorRows: number(l, 'priorRows', 'detectors.label_flip', 20, ...nonNegative),
      maxFitRows: number(l, 'maxFitRows', 'detectors.label_flip', 20_000, ...positiveInteger),
      maxFalseAlarms: number(l, 'maxFalseAlarms', 'detectors.label_flip', 0.1, ...shareUpToAll),
      maxSelfFlagged: number(l, 'maxSelfFlagged', 'detectors.label_flip', 0.3, ...shareUpToAll),
      maxClasses: number(l, 'maxClasses', 'detectors.label_flip', 100, ...integerFromTwo),
      balance: {
        ...warnFail(l, 'balance', 'detectors.label_flip', 0.1, 0.2),
        alpha: number(section(l, 'balance', 'detectors.label_flip'), 'alpha', 'detectors.label_flip.balance', 0.01, ...share),
      },
    },
    trigger: {
      enabled: flag(t, 'enabled', 'detectors.trigger'),
      bins: number(t, 'bins', 'detectors.trigger', 500, (v) => Number.isInteger(v) && v >= 10, 'an integer >= 10'),
      discreteValues: number(t, 'discreteValues', 'detectors.trigger', 64, ...positiveInteger),
      minRows: number(t, 'minRows', 'detectors.trigger', 10, ...positiveInteger),
      minShare: number(t, 'minShare', 'detectors.trigger', 0.002, ...share),
      minLift: number(t, 'minLift', 'detectors.trigger', 4, (v) => v > 1, 'a number above 1'),
      minPurity: number(t, 'minPurity', 'detectors.trigger', 0.9, ...shareUpToAll),
      alpha: number(t, 'alpha', 'detectors.trigger', 0.01, ...share),
      maxPerColumn: number(t, 'maxPerColumn', 'detectors.trigger', 3, ...positiveInteger),
      maxClasses: number(t, 'maxClasses', 'detectors.trigger', 100, ...integerFromTwo),
    },
    drift: {
      enabled: flag(d, 'enabled', 'drift'),
      bins: number(d, 'bins', 'drift', 10, ...integerFromTwo),
      maxCategories: number(d, 'maxCategories', 'drift', 50, ...positiveInteger),
      minRows: number(d, 'minRows', 'drift', 100, ...positiveInteger),
      psi: warnFail(d, 'psi', 'drift', 0.1, 0.25),
      js: warnFail(d, 'js', 'drift', 0.1, 0.2),
      linf: warnFail(d, 'linf', 'drift', 0.1, 0.2),
      alpha: number(d, 'alpha', 'drift', 0.01, ...share),
    },
  };
}

/** The columns detectors use as features: every contract column except the label, id and source. */
export function featureColumnNames(contract: Contract): string[] {
  const excluded = new Set([contract.label, contract.id, contract.source].filter((n): n is string => typeof n === 'string'));
  // Timestamps move on by design (new data is newer), so as features they would make every new
  // row an outlier and every scan drift.
  return contract.columns.filter((c) => c.type !== 'timestamp' && !excluded.has(c.name)).map((c) => c.name);
}
