// fit: the detectors' model bundle from trusted data (a seeded reservoir sample of it), and the
// model a scan uses: a saved bundle, a fit on a baseline, or a fit on the scanned data itself.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { InputError } from '../core/errors.js';
import { Random } from '../core/random.js';
import type { LoadedContract } from '../contract/load.js';
import { fitModel, parseModel, serialiseModel, type ModelBundle } from '../detectors/bundle.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { Contract } from '../core/contract.js';
import { featureColumnNames } from '../detectors/settings.js';
import { sampleRows, type SampleResult } from './sample.js';

/** Rows sampled from the trusted data to fit on; each detector subsamples further as it needs. */
export const DEFAULT_FIT_ROWS = 100_000;

export interface FitRequest {
  /** The trusted dataset. */
  readonly dataset: string;
  readonly contract: LoadedContract;
  readonly seed?: number;
  readonly sampleRows?: number;
  /**
   * The dataset is the one about to be scanned (no baseline given): the label model keeps the
   * out-of-fold probabilities of the rows it was fitted on, by input row, so that the scan judges
   * those rows by models that did not see their labels.
   */
  readonly scanned?: boolean;
}

export interface FittedModel {
  readonly bundle: ModelBundle;
  /** The bundle file's text and its sha256, as reports and the audit log record it. */
  readonly text: string;
  readonly sha256: string;
}

function fitted(bundle: ModelBundle, text = serialiseModel(bundle)): FittedModel {
  return { bundle, text, sha256: createHash('sha256').update(text).digest('hex') };
}

export async function fit(request: FitRequest): Promise<FittedModel> {
  const seed = request.seed ?? 42;
  const random = new Random(seed);
  const sample = await sampleRows(request.dataset, request.sampleRows ?? DEFAULT_FIT_ROWS, () => random.nextFloat(), request.contract.contract);
  // An empty scan is the scan's own finding (schema:empty), with each detector skipped; an empty
  // trusted dataset is the wrong file.
  if (sample.rows === 0 && !request.scanned) throw new InputError('cannot fit on a dataset with no rows', { subject: request.dataset });
  // Trusted data that does not match the contract is the wrong file, or a broken export: the
  // detectors would learn from what is left of it. (Fitted on the scanned data itself, the rule
  // checks report such rows.)
  if (!request.scanned) {
    const mismatch = contractMismatch(request.contract.contract, sample);
    if (mismatch !== null) throw new InputError(`does not match the contract: ${mismatch}`, { subject: request.dataset });
  }
  const bundle = fitModel(sample.batch, request.contract.contract, {
    seed,
    contractSha256: request.contract.sha256,
    ...(request.scanned ? { sampleInputRows: sample.inputRows } : {}),
  });
  return fitted(bundle);
}

/**
 * What keeps a trusted sample from matching the contract, for the columns the detectors use (the
 * features and the label), or null: a required column it lacks, or one with no value readable as
 * the contract's type.
 */
function contractMismatch(contract: Contract, sample: SampleResult): string | null {
  const used = new Set([...featureColumnNames(contract), ...(contract.label ? [contract.label] : [])]);
  const problems: string[] = [];
  for (const column of contract.columns) {
    if (!used.has(column.name)) continue;
    const cells = sample.cells.get(column.name);
    if (cells === undefined) {
      if (column.required !== false) problems.push(`it lacks column '${column.name}'`);
    } else if (cells.readable === 0 && cells.unreadable > 0) {
      problems.push(`column '${column.name}' has no value readable as ${column.type} (${cells.unreadable} cells are not)`);
    }
  }
  return problems.length > 0 ? problems.join('; ') : null;
}

export async function saveModel(model: FittedModel, path: string): Promise<void> {
  await writeFileAtomic(path, model.text);
}

/** A saved bundle, refused when it was fitted for another contract. */
export async function loadModel(path: string, contract?: LoadedContract): Promise<FittedModel> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new InputError('cannot read model: no such file', { subject: path });
  }
  let bundle: ModelBundle;
  try {
    bundle = parseModel(text);
  } catch (error) {
    throw new InputError((error as Error).message, { subject: path, cause: error });
  }
  if (contract && bundle.contractSha256 !== contract.sha256) {
    throw new InputError(
      `model was fitted for another contract (contract sha256 ${bundle.contractSha256.slice(0, 12)}…, ` +
        `${contract.path} has ${contract.sha256.slice(0, 12)}…); refit with datawarden fit`,
      { subject: path },
    );
  }
  return fitted(bundle, text);
}
