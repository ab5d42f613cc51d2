import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitModel } from '../../src/detectors/bundle.js';
import { encodeFeatures } from '../../src/detectors/features.js';
import { compileForest, scoreIsolationForest } from '../../src/detectors/isolation-forest.js';
import { predictLabelProbabilities } from '../../src/detectors/label-model.js';
import { BatchScorer } from '../../src/detectors/scoring-tasks.js';
import { CHUNK_ROWS, ScoringThreads } from '../../src/detectors/threads.js';
import { CONTRACT, sample } from './fixtures.js';

const bundle = fitModel(sample(2000, 1), CONTRACT, { seed: 3, createdAt: '2024-01-01T00:00:00.000Z' });
const forest = bundle.outlier!.forest;
const labelModel = bundle.labelModel!;
// Several ranges a batch, and a last range shorter than the others.
const batches = [sample(3 * CHUNK_ROWS + 123, 2), sample(CHUNK_ROWS - 5, 3, 3 * CHUNK_ROWS + 123)];

function open(): ScoringThreads {
  const threads = ScoringThreads.open(1);
  assert.ok(threads, 'the compiled scoring worker is next to its module');
  return threads;
}

test('no threads to open: none asked for', () => {
  assert.equal(ScoringThreads.open(0), undefined);
});

for (const help of [false, true]) {
  test(`scores on threads are this thread's, to the bit, in batch order${help ? ', with this thread taking ranges too' : ''}`, async () => {
    const threads = open();
    try {
      const scorer = new BatchScorer(threads);
      const seen: string[] = [];
      const outliers: Float64Array[] = [];
      const labels: Float64Array[] = [];
      const pending: Promise<void>[] = [];
      for (const [b, batch] of batches.entries()) {
        pending.push(scorer.outliers(forest, bundle.encoder, batch, (scores) => void (seen.push(`outlier ${b}`), outliers.push(scores.slice())))!);
        pending.push(scorer.labels(labelModel, bundle.encoder, batch, (p) => void (seen.push(`label ${b}`), labels.push(p.slice())))!);
      }
      if (help) threads.helpUntil(threads.mark());
      await Promise.all(pending);
      assert.deepEqual(seen, ['outlier 0', 'label 0', 'outlier 1', 'label 1']);
      batches.forEach((batch, b) => {
        assert.deepEqual(outliers[b], scoreIsolationForest(forest, encodeFeatures(bundle.encoder, batch, 'raw')));
        assert.deepEqual(labels[b], predictLabelProbabilities(labelModel, encodeFeatures(bundle.encoder, batch, 'standardised')));
      });
    } finally {
      await threads.close();
    }
  });
}

test('a job no thread can take is done on this thread, with the same scores', async () => {
  const threads = open();
  try {
    const matrix = encodeFeatures(bundle.encoder, batches[0]!, 'raw', (n) => threads.shared(n));
    const out = threads.shared(matrix.rows);
    // A function cannot be posted to a thread.
    const payload = { compiled: compileForest(forest), data: matrix.data, stride: matrix.rows, out, unpostable: () => 0 };
    await threads.runChunked('forest', payload, matrix.rows);
    assert.deepEqual(out, scoreIsolationForest(forest, encodeFeatures(bundle.encoder, batches[0]!, 'raw')));
    // The thread is gone; later jobs are done here.
    const again = threads.shared(matrix.rows);
    await threads.runChunked('forest', { ...payload, out: again, unpostable: undefined }, matrix.rows);
    assert.deepEqual(again, out);
  } finally {
    await threads.close();
  }
});

test('a task that fails rejects, and a closed pool scores on this thread', async () => {
  const threads = open();
  await assert.rejects(threads.runChunked('no-such-task', {}, 10), /unknown scoring task 'no-such-task'/);
  await threads.close();
  const matrix = encodeFeatures(bundle.encoder, batches[1]!, 'raw');
  const out = new Float64Array(matrix.rows);
  await threads.runChunked('forest', { compiled: compileForest(forest), data: matrix.data, stride: matrix.rows, out }, matrix.rows);
  assert.deepEqual(out, scoreIsolationForest(forest, matrix));
});

/** Outlier scores of a batch through a pool, against this thread's. */
async function assertScoresThrough(threads: ScoringThreads, b: number): Promise<void> {
  let scores: Float64Array | undefined;
  await new BatchScorer(threads).outliers(forest, bundle.encoder, batches[b]!, (s) => void (scores = s.slice()));
  assert.deepEqual(scores, scoreIsolationForest(forest, encodeFeatures(bundle.encoder, batches[b]!, 'raw')));
}

test('a leased pool is kept for the next lease, and lets go of its reuse arrays when the last lease closes', async () => {
  const first = ScoringThreads.lease(1);
  assert.ok(first, 'the compiled scoring worker is next to its module');
  await assertScoresThrough(first, 0);
  const released = first.shared(100);
  first.release(released);
  await first.close();
  const second = ScoringThreads.lease(1);
  assert.equal(second, first, 'the same pool, its thread started');
  assert.notEqual(second!.shared(100), released);
  await assertScoresThrough(second!, 1);
  await second!.close();
});

test('concurrent leases share a pool; one whose thread has failed is replaced', async () => {
  const a = ScoringThreads.lease(1)!;
  const b = ScoringThreads.lease(1)!;
  assert.equal(a, b);
  // A payload that cannot be posted fails the thread; the job is done here.
  const matrix = encodeFeatures(bundle.encoder, batches[1]!, 'raw');
  const out = new Float64Array(matrix.rows);
  await a.runChunked('forest', { compiled: compileForest(forest), data: matrix.data, stride: matrix.rows, out, unpostable: () => 0 }, matrix.rows);
  assert.deepEqual(out, scoreIsolationForest(forest, matrix));
  await a.close();
  await b.close();
  const c = ScoringThreads.lease(1)!;
  assert.notEqual(c, a, 'a new pool, since the old one has no live thread');
  await assertScoresThrough(c, 0);
  await c.close();
});
