// Measures row fingerprinting against the plain way (one createHash per fingerprint, two per row)
// on 1M rows of a typical tabular shape. Run: npx tsx test/provenance/fingerprint.bench.ts
import { createHash } from 'node:crypto';
import { cpus } from 'node:os';
import type { Contract } from '../src/core/contract.js';
import { makeBatch, type Batch, type Column } from '../src/core/types.js';
import { replayCheck } from '../src/checks/replay.js';
import { MemoryReplayStore } from '../src/provenance/replay-store.js';
import { fingerprintSpec, RowFingerprinter } from '../src/provenance/row-fingerprint.js';

const ROWS = 1_000_000;
const BATCH_ROWS = 65_536;
const contract: Contract = {
  name: 'bench',
  label: 'label',
  gate: { pass: 0.01, warn: 0.05 },
  columns: [
    ...Array.from({ length: 6 }, (_, i) => ({ name: `f${i}`, type: 'float' as const })),
    { name: 'category', type: 'string' },
    { name: 'comment', type: 'string' },
    { name: 'at', type: 'timestamp' },
    { name: 'label', type: 'string' },
  ],
};

function makeBatches(): Batch[] {
  const batches: Batch[] = [];
  for (let offset = 0; offset < ROWS; offset += BATCH_ROWS) {
    const n = Math.min(BATCH_ROWS, ROWS - offset);
    const columns: Column[] = [];
    for (let i = 0; i < 6; i++) {
      const values = new Float64Array(n);
      for (let r = 0; r < n; r++) values[r] = Math.round(Math.random() * 1e6) / 100;
      columns.push({ name: `f${i}`, type: 'float', sourceType: 'DOUBLE', valid: null, bad: null, values });
    }
    columns.push({ name: 'category', type: 'string', sourceType: 'VARCHAR', valid: null, bad: null, values: Array.from({ length: n }, (_, r) => `cat-${(offset + r) % 40}`) });
    columns.push({ name: 'comment', type: 'string', sourceType: 'VARCHAR', valid: null, bad: null, values: Array.from({ length: n }, (_, r) => `comment number ${offset + r} about the item`) });
    columns.push({ name: 'at', type: 'timestamp', sourceType: 'TIMESTAMP', valid: null, bad: null, values: Float64Array.from({ length: n }, (_, r) => 1.7e15 + offset + r) });
    columns.push({ name: 'label', type: 'string', sourceType: 'VARCHAR', valid: null, bad: null, values: Array.from({ length: n }, (_, r) => ((offset + r) % 3 === 0 ? 'neg' : 'pos')) });
    batches.push(makeBatch(offset, n, columns));
  }
  return batches;
}

/** The plain way: a JSON text per row and per row-without-label, each hashed with its own createHash. */
function baseline(batches: Batch[], features: readonly string[]): number {
  let checksum = 0;
  for (const batch of batches) {
    const columns = features.map((name) => batch.byName.get(name)!);
    const label = batch.byName.get('label')!;
    for (let row = 0; row < batch.rowCount; row++) {
      const cells = columns.map((column) => column.values[row]);
      const withoutLabel = JSON.stringify(cells);
      const withLabel = JSON.stringify([...cells, label.values[row]]);
      checksum ^= createHash('sha256').update(withoutLabel).digest()[0]! ^ createHash('sha256').update(withLabel).digest()[0]!;
    }
  }
  return checksum;
}

function time(name: string, run: () => unknown): number {
  const started = performance.now();
  run();
  const ms = performance.now() - started;
  console.log(`${name.padEnd(44)} ${ms.toFixed(0).padStart(6)} ms  ${((ms * 1e6) / ROWS).toFixed(0).padStart(5)} ns/row`);
  return ms;
}

const batches = makeBatches();
// Warm the JIT on one batch of each path so the timings below measure steady state.
baseline(batches.slice(0, 1), fingerprintSpec(contract).features);
new RowFingerprinter(fingerprintSpec(contract)).fingerprintBatch(batches[0]!);
const spec = fingerprintSpec(contract);
console.log(`${ROWS} rows, ${spec.features.length} feature columns + label, ${BATCH_ROWS} rows a batch; node ${process.version}, ${cpus()[0]?.model ?? 'unknown cpu'}`);
const reference = time('baseline: JSON + createHash x2 per row', () => baseline(batches, spec.features));
const fingerprinter = new RowFingerprinter(spec);
const ours = time('RowFingerprinter.fingerprintBatch', () => {
  for (const batch of batches) fingerprinter.fingerprintBatch(batch);
});
const store = new MemoryReplayStore();
const check = time('replay check (fingerprints + lookups + seen keys)', () => {
  const check = replayCheck({ store, datasetId: 'bench' });
  const context = { contract, seed: 1, input: { path: 'x', format: 'csv', declaredRows: null, columns: [] } };
  const runner = check.create(context);
  const flags = { reason: () => 0, flag: () => undefined };
  for (const batch of batches) runner.run(batch, flags);
  check.finish!([runner.state!()], context);
});
const lookups = time('replay check against 1M seen rows of another dataset', () => {
  const check = replayCheck({ store, datasetId: 'bench-2' });
  const context = { contract, seed: 1, input: { path: 'x', format: 'csv', declaredRows: null, columns: [] } };
  const runner = check.create(context);
  const flags = { reason: () => 0, flag: () => undefined };
  for (const batch of batches) runner.run(batch, flags);
  const end = check.finish!([runner.state!()], context);
  if ((end.findings ?? []).length !== 1) throw new Error('expected one duplicate finding');
});
console.log(`speed-up of fingerprinting over baseline: ${(reference / ours).toFixed(1)}x; check overhead ${(check - ours).toFixed(0)} ms, with seen lookups ${(lookups - ours).toFixed(0)} ms`);
