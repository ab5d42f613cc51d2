// Scores a slice of rows for scoreIsolationForestParallel: receives the compiled forest and a
// column-major slice, returns the summed path lengths (transferred, not copied), and exits.
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
  // One slice a thread: with its port closed the thread has nothing left and exits.
  parentPort!.close();
});
