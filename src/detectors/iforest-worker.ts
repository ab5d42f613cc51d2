// Scores a slice of rows for scoreIsolationForestParallel: receives the compiled forest and a
// column-major slice, returns the summed path lengths (transferred, not copied).
import { parentPort } from 'node:worker_threads';
import { accumulatePathLengths, type CompiledForest } from './isolation-forest.js';

interface SliceJob {
  readonly compiled: CompiledForest;
  readonly data: Float64Array;
  readonly rows: number;
}

parentPort?.on('message', (job: SliceJob) => {
  const sums = new Float64Array(job.rows);
  accumulatePathLengths(job.compiled, job.data, job.rows, 0, job.rows, sums);
  parentPort!.postMessage(sums, [sums.buffer]);
});
