// A scoring thread (threads.ts): takes the free ranges of each job it is sent, in order, does
// them, and answers once it has gone through the job.
import { parentPort } from 'node:worker_threads';
import { runScoringTask } from './scoring-tasks.js';
import { CHUNK_ROWS, DONE_THERE, FREE, TAKEN, type JobMessage, type JobReply } from './threads.js';

parentPort?.on('message', (job: JobMessage) => {
  let reply: JobReply = { id: job.id };
  try {
    for (let k = 0; k < job.claims.length; k++) {
      if (Atomics.compareExchange(job.claims, k, FREE, TAKEN) !== FREE) continue;
      runScoringTask(job.task, job.payload, k * CHUNK_ROWS, Math.min(job.rows, (k + 1) * CHUNK_ROWS));
      Atomics.store(job.claims, k, DONE_THERE);
    }
  } catch (error) {
    reply = { id: job.id, error: error instanceof Error ? error.message : String(error) };
  }
  parentPort!.postMessage(reply);
});
