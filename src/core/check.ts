// A check is metadata plus one factory, as an eslint rule is: `meta` declares its id and the
// reason codes it may write; `create` returns the per-scan runner that flags rows batch by batch.
import type { Contract } from './contract.js';
import type { Batch, DatasetFinding, LogicalType } from './types.js';

export interface CheckMeta {
  /** Stable id, used by `--checks` and as the prefix of every reason code. */
  readonly id: string;
  readonly description: string;
  /** Reason code patterns this check writes, with what each means. */
  readonly reasons: Readonly<Record<string, string>>;
  /** Detectors need a fitted model; rule checks do not. */
  readonly needsModel?: boolean;
  /**
   * The check can only flag some rows once it has seen every row (a trigger value is decided
   * from the whole dataset). Rows a scan routed as it checked them are routed again when the
   * check does flag rows at the end.
   */
  readonly flagsAtEnd?: boolean;
}

/** A column as the input file presents it, before any row is read. */
export interface InputColumn {
  readonly name: string;
  /** null when the file's type has no logical counterpart. */
  readonly type: LogicalType | null;
  readonly sourceType: string;
}

export interface InputShape {
  readonly path: string;
  readonly format: string;
  readonly columns: readonly InputColumn[];
  /** The row count the file declares (Parquet footer, Arrow footer), when it declares one. */
  readonly declaredRows: number | null;
}

/** Where a check writes row findings. Rows are indices within the batch. */
export interface RowFlags {
  /** The id of a reason code, interned once so hot loops pass integers. */
  reason(code: string): number;
  flag(row: number, reasonId: number): void;
}

export interface CheckContext {
  readonly contract: Contract;
  readonly input: InputShape;
  readonly seed: number;
  /** The fitted model bundle, for detectors. */
  readonly model?: unknown;
  /**
   * The model was fitted on a sample of this very input (no baseline, no saved model): on that
   * sample the label model's out-of-fold scores stand in for its own, and drift and triggers have
   * no baseline to compare with.
   */
  readonly modelFittedOnInput?: boolean;
  /**
   * The runner sees one row range of a scan split across workers: its state() must carry what
   * finish() needs to fold the ranges (a duplicate check keeps which row held each hash).
   */
  readonly partial?: boolean;
  /** Where detectors publish per-row scores when the scan writes them (`--emit-scores`). */
  readonly scores?: ScoreSink;
  /**
   * Other threads a runner may hand heavy work to (detector scoring). Without them, runners do
   * all their work inside run(), synchronously.
   */
  readonly threads?: WorkerThreads;
}

/** Threads that share a scan's heavy work (see detectors/threads.ts). */
export interface WorkerThreads {
  /** A zeroed array on memory the threads share, for a task's inputs and results. */
  shared(length: number): Float64Array;
  /** Gives an array from shared() back, once nothing reads or writes it any more. */
  release(array: Float64Array): void;
  /**
   * Runs a named task over rows [0, rows) in ranges that the threads and the scan's own thread
   * share out. The payload holds shared arrays (the task writes its results into them) and
   * small values. Settles once every range is done.
   */
  runChunked(task: string, payload: object, rows: number): Promise<void>;
}

/** Per-row scores of the batch being checked, by score name (outlier_score, label_score). */
export interface ScoreSink {
  record(name: string, batch: Batch, scores: Float64Array): void;
}

/** Rows flagged when the scan ends: global row indices with one reason code. */
export interface LateFlags {
  readonly rows: ArrayLike<number>;
  readonly code: string;
}

export interface CheckEnd {
  readonly findings?: readonly DatasetFinding[];
  /** Figures for the report (thresholds, histograms, counts). */
  readonly summary?: Readonly<Record<string, unknown>>;
  /** Rows that only the whole dataset shows to be bad (see CheckMeta.flagsAtEnd). */
  readonly lateFlags?: readonly LateFlags[];
  /**
   * Flags rows while they are routed, with what only the whole dataset showed (triggers decided
   * at the end): called on every batch of the routing pass (see CheckMeta.flagsAtEnd).
   */
  readonly flagRows?: (batch: Batch, flags: RowFlags) => void;
  /**
   * The findings and summary as the routing pass left them, for figures only it counts exactly
   * (a trigger's rows): called once after that pass, in place of `findings` and `summary`.
   */
  readonly afterRouting?: () => Pick<CheckEnd, 'findings' | 'summary'>;
}

export interface CheckRunner {
  /**
   * Checks one batch. A runner that hands work to `context.threads` returns a promise that
   * settles once it has flagged the batch; the pipeline may call run() on the next batch before
   * then, and awaits the promise before it folds this batch's flags. Such a runner must still
   * fold what it learns in batch order.
   */
  run(batch: Batch, flags: RowFlags): void | Promise<void>;
  /**
   * Column sets whose row hashes the runner would like the reader to compute (Batch.rowHashes);
   * a runner must work without them, since not every reader can.
   */
  readonly hashColumns?: readonly (readonly string[])[];
  /**
   * What the runner learnt over its rows (counts, histograms, hashes), as a value v8 can
   * serialise, so that ranges scanned by different workers fold into one result.
   */
  state?(): unknown;
}

export interface CheckDefinition {
  readonly meta: CheckMeta;
  /**
   * Dataset-level findings known before any row is read (a missing column, a detector that cannot
   * run). Asked once per scan, apart from create(), so that no runner state is built to answer it.
   */
  begin?(context: CheckContext): readonly DatasetFinding[];
  create(context: CheckContext): CheckRunner;
  /**
   * The end of the scan: folds the states of every row range, in row order (one state for a
   * scan in one process), into findings, a summary and late flags.
   */
  finish?(states: readonly unknown[], context: CheckContext): CheckEnd;
}

export function defineCheck(definition: CheckDefinition): CheckDefinition {
  return definition;
}
