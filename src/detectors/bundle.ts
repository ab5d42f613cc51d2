// The model bundle: everything the detectors fit on a trusted sample, stored as one JSON file
// (`datawarden fit --model FILE`) and read back for scans. Serialising is deterministic: the same
// sample, contract, seed and creation time give the same bytes.
import { createHash } from 'node:crypto';
import type { Contract } from '../core/contract.js';
import { InputError } from '../core/errors.js';
import { Random } from '../core/random.js';
import type { Batch, Column } from '../core/types.js';
import { fitDriftBaseline, driftBaselineFromJson, type DriftBaseline } from './drift.js';
import { encodeFeatures, featureEncoderFromJson, fitFeatureEncoder, takeRows, type FeatureEncoder, type FeatureMatrix } from './features.js';
import {
  fitIsolationForest,
  forestFromJson,
  forestToJson,
  scoreIsolationForest,
  thresholdFromContamination,
  thresholdFromQuantile,
  type IsolationForest,
} from './isolation-forest.js';
import { encodeLabels, fitLabelModel, labelModelFromJson, labelModelToJson, type LabelModel, type RowProbabilities } from './label-model.js';
import { detectorSettings, featureColumnNames, type DetectorSettings, type LabelFlipSettings } from './settings.js';
import { fitTriggerBaseline, triggerBaselineFromJson, type TriggerBaseline } from './triggers.js';

export const MODEL_FORMAT = 'datawarden-model';
export const MODEL_VERSION = 1;

/** Baseline outlier scores at quantiles 0, 0.001, ..., 1, so a scan can move the threshold. */
const SCORE_QUANTILE_STEPS = 1000;

export interface OutlierModel {
  readonly forest: IsolationForest;
  /** Rows scoring above this are outliers (from the fit-time quantile or contamination). */
  readonly threshold: number;
  readonly scoreQuantiles: readonly number[];
}

export interface ModelBundle {
  readonly format: typeof MODEL_FORMAT;
  readonly version: typeof MODEL_VERSION;
  readonly createdAt: string;
  readonly seed: number;
  readonly contractSha256: string;
  readonly sampleRows: number;
  readonly label: string | null;
  readonly featureColumns: readonly string[];
  /** The settings the fit used (from the contract, with defaults). */
  readonly parameters: DetectorSettings;
  readonly encoder: FeatureEncoder;
  readonly outlier: OutlierModel | null;
  readonly labelModel: LabelModel | null;
  readonly triggerBaseline: TriggerBaseline | null;
  readonly driftBaseline: DriftBaseline | null;
  /** Why a detector has no model (detector name -> reason). */
  readonly skipped: Readonly<Record<string, string>>;
}

export interface FitOptions {
  readonly seed: number;
  /** Recorded creation time (default now); pass one for byte-identical refits. */
  readonly createdAt?: Date | string;
  /** sha256 of the contract file as loaded; default: sha256 of the contract's canonical JSON. */
  readonly contractSha256?: string;
  /**
   * The input row of each sample row, when the sample comes from the dataset about to be
   * scanned: the label model then keeps its out-of-fold probabilities by input row.
   */
  readonly sampleInputRows?: ArrayLike<number>;
}

/** JSON with object keys sorted, for hashing a contract that came without its file. */
function sortedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    const parts = Object.keys(object)
      .sort()
      .filter((k) => object[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${sortedJson(object[k])}`);
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Rows [0, n) when n <= limit, else a seeded sample of `limit` of them, ascending. */
function sampleRows(n: number, limit: number, seed: number): number[] {
  const rows = Array.from({ length: n }, (_, i) => i);
  if (n <= limit) return rows;
  return new Random(seed).shuffle(rows).slice(0, limit).sort((a, b) => a - b);
}

function subset(matrix: FeatureMatrix, rows: number[]): FeatureMatrix {
  return rows.length === matrix.rows ? matrix : takeRows(matrix, rows);
}

/**
 * Why a fitted label model is not to be used, or null. Out of fold, the rule flags a share of
 * the rows the model was fitted on: trusted rows have right labels, so on them that share is the
 * false alarms a scan should expect. When the features predict the label weakly, it climbs
 * toward a half (any row whose features point elsewhere looks flipped), and flags stop meaning
 * anything. Fitted on the scanned data itself, the share also holds the real flips, so the
 * limit is higher there.
 */
function tooManyFlagged(model: LabelModel, settings: LabelFlipSettings, selfFitted: boolean): string | null {
  const share = model.fitFlagged!;
  const percent = (x: number) => `${(100 * x).toFixed(1)}%`;
  if (!selfFitted && share > settings.maxFalseAlarms) {
    return `out of fold, the label model flags ${percent(share)} of the trusted rows it was fitted on, above detectors.label_flip.maxFalseAlarms (${settings.maxFalseAlarms}): the features do not predict the label well enough to tell a flipped label from a hard one`;
  }
  if (selfFitted && share > settings.maxSelfFlagged) {
    return `out of fold, the label model flags ${percent(share)} of the sampled rows, above detectors.label_flip.maxSelfFlagged (${settings.maxSelfFlagged}): the features predict the label too weakly, or too many labels are wrong, to single out flipped ones (fit on trusted data with --baseline)`;
  }
  return null;
}

/**
 * The out-of-fold probabilities of the label model's fitting rows (`fitRows`, sample rows, in
 * the order fitLabelModel saw them), keyed by input row; unlabelled rows have none.
 */
function outOfFoldByInputRow(outOfFold: Float64Array, fitRows: readonly number[], codes: Int32Array, inputRows: ArrayLike<number>, K: number): RowProbabilities {
  const kept = fitRows.map((row, i) => ({ row, i })).filter(({ row }) => codes[row]! >= 0);
  const probabilities = new Float64Array(kept.length * K);
  kept.forEach(({ i }, k) => probabilities.set(outOfFold.subarray(i * K, (i + 1) * K), k * K));
  return { rows: Float64Array.from(kept, ({ row }) => inputRows[row]!), probabilities };
}

/** Fits every detector on a trusted sample. Detectors that cannot run are listed in `skipped`. */
export function fitModel(sample: Batch, contract: Contract, options: FitOptions): ModelBundle {
  const settings = detectorSettings(contract);
  const seed = options.seed;
  const skipped: Record<string, string> = {};
  const featureColumns = featureColumnNames(contract);
  const present = featureColumns.map((n) => sample.byName.get(n)).filter((c): c is Column => c !== undefined);
  const encoder = fitFeatureEncoder(present, { columns: featureColumns });
  const random = new Random(seed);
  const streamSeeds = { outlier: random.nextUint32(), outlierRows: random.nextUint32(), label: random.nextUint32(), labelRows: random.nextUint32() };

  // An empty scan fitted on itself: one reason for every detector, not one a missing column.
  const noRows = sample.rowCount === 0 ? 'the sample has no rows' : null;

  let outlier: OutlierModel | null = null;
  if (!settings.outlier.enabled) skipped.outlier = 'disabled in the contract (detectors.outlier.enabled: false)';
  else if (noRows !== null) skipped.outlier = noRows;
  else {
    const raw = encodeFeatures(encoder, sample, 'raw');
    if (raw.cols === 0) skipped.outlier = 'no usable feature column (all dropped as missing, all-null or constant)';
    else if (raw.rows < 2) skipped.outlier = `the sample has ${raw.rows} rows; an isolation forest needs at least 2`;
    else {
      const rows = subset(raw, sampleRows(raw.rows, settings.outlier.maxFitRows, streamSeeds.outlierRows));
      const forest = fitIsolationForest(rows, { trees: settings.outlier.trees, sampleSize: settings.outlier.sampleSize, seed: streamSeeds.outlier });
      const scores = scoreIsolationForest(forest, rows);
      const threshold =
        settings.outlier.contamination !== null ? thresholdFromContamination(scores, settings.outlier.contamination) : thresholdFromQuantile(scores, settings.outlier.quantile);
      // Same order statistic as scoreQuantile, from one sort.
      const sorted = Float64Array.from(scores).sort();
      const scoreQuantiles = Array.from({ length: SCORE_QUANTILE_STEPS + 1 }, (_, i) => {
        const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((i / SCORE_QUANTILE_STEPS) * sorted.length) - 1));
        return sorted[rank]!;
      });
      outlier = { forest, threshold, scoreQuantiles };
    }
  }

  const labelName = contract.label ?? null;
  const labelColumn = labelName === null ? undefined : sample.byName.get(labelName);
  let labelModel: LabelModel | null = null;
  let triggerBaseline: TriggerBaseline | null = null;
  if (labelName === null || labelColumn === undefined) {
    const why = labelName === null ? 'the contract names no label column' : noRows ?? `the sample has no label column '${labelName}'`;
    skipped.label_flip = why;
    skipped.trigger = why;
  } else {
    const { classes, codes } = encodeLabels(labelColumn);
    // A label with thousands of values (an identifier named as the label, say) would make models
    // and counts with a slot per class for every node and value, for a rule that needs rows of
    // each class in every fold.
    const tooManyClasses = (limit: number, key: string) =>
      classes.length > limit ? `the label has ${classes.length} classes in the sample, more than detectors.${key}.maxClasses (${limit})` : null;
    const labelFlipClasses = tooManyClasses(settings.labelFlip.maxClasses, 'label_flip');
    const triggerClasses = tooManyClasses(settings.trigger.maxClasses, 'trigger');
    if (!settings.labelFlip.enabled) skipped.label_flip = 'disabled in the contract (detectors.label_flip.enabled: false)';
    else if (labelFlipClasses !== null) skipped.label_flip = labelFlipClasses;
    else {
      const matrix = encodeFeatures(encoder, sample, 'standardised');
      const rows = sampleRows(matrix.rows, settings.labelFlip.maxFitRows, streamSeeds.labelRows);
      const fit = fitLabelModel(subset(matrix, rows), Int32Array.from(rows, (r) => codes[r]!), classes, {
        folds: settings.labelFlip.folds,
        seed: streamSeeds.label,
        trees: { trees: settings.labelFlip.trees, minLeaf: settings.labelFlip.minLeaf },
      });
      const unfit = fit.model === null ? fit.skipped : tooManyFlagged(fit.model, settings.labelFlip, options.sampleInputRows !== undefined);
      if (unfit !== null) skipped.label_flip = unfit;
      else if (options.sampleInputRows === undefined) labelModel = fit.model;
      else labelModel = { ...fit.model!, outOfFold: outOfFoldByInputRow(fit.outOfFold, rows, codes, options.sampleInputRows, classes.length) };
    }
    const distinct = new Set(codes.filter((c) => c >= 0)).size;
    if (!settings.trigger.enabled) skipped.trigger = 'disabled in the contract (detectors.trigger.enabled: false)';
    else if (triggerClasses !== null) skipped.trigger = triggerClasses;
    else if (distinct < 2) skipped.trigger = `the label has ${distinct} class${distinct === 1 ? '' : 'es'} in the sample; triggers pair a value with one of several labels`;
    else if (present.length === 0) skipped.trigger = 'no feature column in the sample';
    else {
      triggerBaseline = fitTriggerBaseline(present, codes, classes, { bins: settings.trigger.bins, discreteValues: settings.trigger.discreteValues });
    }
  }

  let driftBaseline: DriftBaseline | null = null;
  if (!settings.drift.enabled) skipped.drift = 'disabled in the contract (drift.enabled: false)';
  else if (noRows !== null) skipped.drift = noRows;
  else if (present.length === 0) skipped.drift = 'no feature column in the sample';
  else driftBaseline = fitDriftBaseline(present, { bins: settings.drift.bins, maxCategories: settings.drift.maxCategories });

  const createdAt = options.createdAt === undefined ? new Date().toISOString() : typeof options.createdAt === 'string' ? options.createdAt : options.createdAt.toISOString();
  return {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    createdAt,
    seed,
    contractSha256: options.contractSha256 ?? createHash('sha256').update(sortedJson(contract)).digest('hex'),
    sampleRows: sample.rowCount,
    label: labelName,
    featureColumns,
    parameters: settings,
    encoder,
    outlier,
    labelModel,
    triggerBaseline,
    driftBaseline,
    skipped,
  };
}

/** The bundle as JSON text (typed arrays as base64). Same bundle, same bytes. */
export function serialiseModel(bundle: ModelBundle): string {
  return JSON.stringify({
    format: bundle.format,
    version: bundle.version,
    createdAt: bundle.createdAt,
    seed: bundle.seed,
    contractSha256: bundle.contractSha256,
    sampleRows: bundle.sampleRows,
    label: bundle.label,
    featureColumns: bundle.featureColumns,
    parameters: bundle.parameters,
    encoder: bundle.encoder,
    outlier: bundle.outlier && {
      threshold: bundle.outlier.threshold,
      scoreQuantiles: bundle.outlier.scoreQuantiles,
      forest: forestToJson(bundle.outlier.forest),
    },
    labelModel: bundle.labelModel && labelModelToJson(bundle.labelModel),
    triggerBaseline: bundle.triggerBaseline,
    driftBaseline: bundle.driftBaseline,
    skipped: bundle.skipped,
  });
}

function wrap<T>(part: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof InputError) throw new InputError(`model file, ${part}: ${error.message}`, { cause: error });
    throw error;
  }
}

/** Reads a model bundle from its JSON form, with a clear error for anything malformed. */
export function modelFromJson(json: unknown): ModelBundle {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new InputError('model file: not a JSON object');
  const o = json as Record<string, unknown>;
  if (o.format !== MODEL_FORMAT) throw new InputError(`model file: format is ${JSON.stringify(o.format)}, expected '${MODEL_FORMAT}'`);
  if (o.version !== MODEL_VERSION) throw new InputError(`model file: version ${JSON.stringify(o.version)} is not supported (this datawarden reads version ${MODEL_VERSION})`);
  for (const key of ['createdAt', 'contractSha256'] as const) if (typeof o[key] !== 'string') throw new InputError(`model file: ${key} must be a string`);
  if (typeof o.seed !== 'number' || typeof o.sampleRows !== 'number') throw new InputError('model file: seed and sampleRows must be numbers');
  if (o.label !== null && typeof o.label !== 'string') throw new InputError('model file: label must be a string or null');
  if (!Array.isArray(o.featureColumns) || !o.featureColumns.every((c) => typeof c === 'string')) throw new InputError('model file: featureColumns must be strings');
  if (typeof o.parameters !== 'object' || o.parameters === null) throw new InputError('model file: parameters must be an object');
  const fittedOutlier = (o.parameters as { outlier?: { quantile?: unknown; contamination?: unknown } }).outlier;
  if (typeof fittedOutlier?.quantile !== 'number' || (fittedOutlier.contamination !== null && typeof fittedOutlier.contamination !== 'number')) {
    throw new InputError('model file: parameters.outlier needs quantile and contamination');
  }
  if (typeof o.skipped !== 'object' || o.skipped === null) throw new InputError('model file: skipped must be an object');
  const encoder = wrap('encoder', () => featureEncoderFromJson(o.encoder));
  let outlier: OutlierModel | null = null;
  if (o.outlier !== null) {
    outlier = wrap('outlier', () => {
      const part = o.outlier as Record<string, unknown>;
      if (typeof part !== 'object' || part === null) throw new InputError('must be an object or null');
      if (typeof part.threshold !== 'number' || !Number.isFinite(part.threshold)) throw new InputError('threshold must be a number');
      const q = part.scoreQuantiles;
      if (!Array.isArray(q) || q.length !== SCORE_QUANTILE_STEPS + 1 || !q.every((v, i) => typeof v === 'number' && (i === 0 || v >= (q[i - 1] as number)))) {
        throw new InputError(`scoreQuantiles must be ${SCORE_QUANTILE_STEPS + 1} ascending numbers`);
      }
      return { forest: forestFromJson(part.forest), threshold: part.threshold, scoreQuantiles: q as number[] };
    });
  }
  const labelModel = o.labelModel === null ? null : wrap('labelModel', () => labelModelFromJson(o.labelModel));
  const triggerBaseline = o.triggerBaseline === null ? null : wrap('triggerBaseline', () => triggerBaselineFromJson(o.triggerBaseline));
  const driftBaseline = o.driftBaseline === null ? null : wrap('driftBaseline', () => driftBaselineFromJson(o.driftBaseline));
  return {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    createdAt: o.createdAt as string,
    seed: o.seed,
    contractSha256: o.contractSha256 as string,
    sampleRows: o.sampleRows,
    label: o.label as string | null,
    featureColumns: o.featureColumns as string[],
    parameters: o.parameters as DetectorSettings,
    encoder,
    outlier,
    labelModel,
    triggerBaseline,
    driftBaseline,
    skipped: o.skipped as Record<string, string>,
  };
}

export function parseModel(text: string): ModelBundle {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InputError(`model file is not valid JSON (${(error as Error).message})`, { cause: error });
  }
  return modelFromJson(json);
}

const parsedBundles = new WeakMap<object, ModelBundle>();

/**
 * The bundle a check was given: a parsed bundle, its JSON text or its JSON value.
 * Null when there is none.
 */
export function asModelBundle(model: unknown): ModelBundle | null {
  if (model === undefined || model === null) return null;
  if (typeof model === 'string') return parseModel(model);
  if (typeof model !== 'object') throw new InputError('the model must be a model bundle');
  const cached = parsedBundles.get(model);
  if (cached) return cached;
  const o = model as Record<string, unknown>;
  const forest = (o.outlier as { forest?: { splitFeature?: unknown } } | null)?.forest;
  const alreadyParsed = o.format === MODEL_FORMAT && (o.outlier === null || forest?.splitFeature instanceof Int32Array) && (o.labelModel === null || (o.labelModel as { trees?: { splitFeature?: unknown } }).trees?.splitFeature instanceof Int32Array);
  const bundle = alreadyParsed ? (model as ModelBundle) : modelFromJson(model);
  parsedBundles.set(model, bundle);
  return bundle;
}

/** The outlier threshold for a scan: the contract's quantile or contamination when they differ from the fit's. */
export function outlierThreshold(outlier: OutlierModel, fitted: DetectorSettings['outlier'], current: DetectorSettings['outlier']): number {
  if (current.contamination === fitted.contamination && current.quantile === fitted.quantile) return outlier.threshold;
  const q = current.contamination !== null ? 1 - current.contamination : current.quantile;
  // The stored quantiles are a step function; take the first stored quantile at or above q.
  const index = Math.min(SCORE_QUANTILE_STEPS, Math.ceil(q * SCORE_QUANTILE_STEPS - 1e-9));
  return outlier.scoreQuantiles[index]!;
}

/** Columns a model needs (its encoded features, plus the label for label detectors) that the input lacks. */
export function missingModelColumns(bundle: ModelBundle, inputColumns: readonly { readonly name: string }[], withLabel: boolean): string[] {
  const present = new Set(inputColumns.map((c) => c.name));
  const needed = bundle.encoder.features.map((f) => f.column);
  if (withLabel && bundle.label !== null) needed.push(bundle.label);
  return needed.filter((name) => !present.has(name));
}
