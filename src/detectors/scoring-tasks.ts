// The detector work a scan shares with scoring threads (threads.ts): named tasks that score a
// range of a batch's rows from shared arrays into shared arrays, and the helpers the checks call.
// A row's numbers come from one call of the same function whoever runs its range, so the scores
// are the same, to the bit, with threads or without.
import type { WorkerThreads } from '../core/check.js';
import { InputError } from '../core/errors.js';
import type { Batch } from '../core/types.js';
import { compileTrees, type CompiledTrees } from './extra-trees.js';
import { encodeFeatures, type FeatureEncoder, type FeatureMatrix } from './features.js';
import { compileForest, pathLengthsToScores, scoreIsolationForest, type CompiledForest, type IsolationForest } from './isolation-forest.js';
import { walkForest } from './tree-walks.js';
import { ensembleRows, predictLabelProbabilities, type LabelModel } from './label-model.js';
import type { LogisticModel } from './logistic.js';

export interface ForestTask {
  readonly compiled: CompiledForest;
  /** Column-major, `stride` rows a column. */
  readonly data: Float64Array;
  readonly stride: number;
  /** Scores, one a row. */
  readonly out: Float64Array;
}

interface LabelTask {
  readonly logistic: LogisticModel;
  readonly trees: CompiledTrees;
  readonly data: Float64Array;
  readonly stride: number;
  /** Class probabilities, rows x classes, row-major. */
  readonly out: Float64Array;
}

/** Outlier scores of rows [start, end), as scoreIsolationForest gives them. */
function forestRows(task: ForestTask, start: number, end: number): void {
  const sums = task.out.subarray(start, end);
  sums.fill(0);
  walkForest(task.compiled, task.data, task.stride, start, end, sums);
  pathLengthsToScores(task.compiled, sums);
}

/** The trees' sums of one range (scratch, reused range after range on each thread). */
let forestScratch = new Float64Array(0);

/** Class probabilities of rows [start, end), as predictLabelProbabilities gives them. */
function labelRows(task: LabelTask, start: number, end: number): void {
  const K = task.trees.classes;
  if (forestScratch.length < (end - start) * K) forestScratch = new Float64Array((end - start) * K);
  ensembleRows(task.logistic, task.trees, task.data, task.stride, start, end, task.out.subarray(start * K, end * K), forestScratch);
}

/** Scores rows [start, end) of a task's batch, on whichever thread calls it. */
export function runScoringTask(task: string, payload: unknown, start: number, end: number): void {
  if (task === 'forest') forestRows(payload as ForestTask, start, end);
  else if (task === 'label') labelRows(payload as LabelTask, start, end);
  else throw new Error(`unknown scoring task '${task}'`);
}

/**
 * Scores one batch after another for a check, sharing the work with the scan's threads when it
 * has some, and hands each batch's scores to `use` in batch order, whenever they are ready
 * (sums of floating-point numbers, such as a mean score, depend on their order).
 */
export class BatchScorer {
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly threads: WorkerThreads | undefined) {}

  /** Outlier scores of a batch's rows. */
  outliers(forest: IsolationForest, encoder: FeatureEncoder, batch: Batch, use: (scores: Float64Array) => void): void | Promise<void> {
    const threads = this.threads;
    if (threads === undefined) return use(scoreIsolationForest(forest, encodeFeatures(encoder, batch, 'raw')));
    const matrix = encodeFeatures(encoder, batch, 'raw', (length) => threads.shared(length));
    checkWidth(matrix, forest.features, 'the forest');
    const task: ForestTask = { compiled: compileForest(forest), data: matrix.data, stride: matrix.rows, out: threads.shared(matrix.rows) };
    return this.whenDone(threads, threads.runChunked('forest', task, matrix.rows), matrix.data, task.out, use);
  }

  /** Class probabilities of a batch's rows (rows x classes, row-major). */
  labels(model: LabelModel, encoder: FeatureEncoder, batch: Batch, use: (probabilities: Float64Array) => void): void | Promise<void> {
    const threads = this.threads;
    if (threads === undefined) return use(predictLabelProbabilities(model, encodeFeatures(encoder, batch, 'standardised')));
    const matrix = encodeFeatures(encoder, batch, 'standardised', (length) => threads.shared(length));
    checkWidth(matrix, model.features, 'the label model');
    const task: LabelTask = {
      logistic: model.logistic,
      trees: compileTrees(model.trees),
      data: matrix.data,
      stride: matrix.rows,
      out: threads.shared(matrix.rows * model.classes.length),
    };
    return this.whenDone(threads, threads.runChunked('label', task, matrix.rows), matrix.data, task.out, use);
  }

  private whenDone(threads: WorkerThreads, job: Promise<void>, input: Float64Array, out: Float64Array, use: (out: Float64Array) => void): Promise<void> {
    const done = Promise.all([this.tail, job]).then(() => {
      threads.release(input);
      try {
        use(out);
      } finally {
        threads.release(out);
      }
    });
    this.tail = done.catch(() => undefined);
    return done;
  }
}

export function checkWidth(matrix: FeatureMatrix, features: number, what: string): void {
  if (matrix.cols !== features) throw new InputError(`${what} was fitted on ${features} features, the matrix has ${matrix.cols}`);
}
