import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { replayCheck } from '../../src/checks/replay.js';
import type { Contract } from '../../src/core/contract.js';
import type { Batch, Column } from '../../src/core/types.js';
import { FileReplayStore, MemoryReplayStore, type ReplayStore } from '../../src/provenance/replay-store.js';
import { fingerprintHex, fingerprintRows, fingerprintSpec, RowFingerprinter } from '../../src/provenance/row-fingerprint.js';
import { batch, checkContext, column, FlagRecorder, tempDir } from './helpers.js';

const contract: Contract = {
  name: 'reviews',
  label: 'label',
  id: 'id',
  source: 'feed',
  gate: { pass: 0.01, warn: 0.05 },
  columns: [
    { name: 'id', type: 'int' },
    { name: 'text', type: 'string' },
    { name: 'score', type: 'float' },
    { name: 'at', type: 'timestamp' },
    { name: 'flag', type: 'bool' },
    { name: 'label', type: 'string' },
    { name: 'feed', type: 'string' },
  ],
};

type Row = { id?: number; text?: string | null; score?: number | null; at?: number; flag?: boolean; label?: string; feed?: string; extra?: string };

/** One-row batch from values; `types` overrides a column's type, `order` its position. */
function rowBatch(row: Row, types: Partial<Record<keyof Row, Column['type']>> = {}, order?: Array<keyof Row>): Batch {
  const defaults: Record<keyof Row, Column['type']> = { id: 'int', text: 'string', score: 'float', at: 'timestamp', flag: 'bool', label: 'string', feed: 'string', extra: 'string' };
  const names = order ?? (Object.keys(row) as Array<keyof Row>);
  return batch(names.filter((n) => n in row).map((n) => column(n, types[n] ?? defaults[n], [row[n] ?? null])));
}

const base: Row = { id: 1, text: 'great product', score: 4, at: 1_700_000_000_000_000, flag: true, label: 'pos', feed: 'vendor-a' };
const fingerprinter = new RowFingerprinter(fingerprintSpec(contract));
const fp = (b: Batch) => {
  const all = fingerprinter.fingerprintBatch(b);
  return { features: fingerprintHex(all.features, 0), withLabel: fingerprintHex(all.withLabel, 0) };
};

describe('fingerprintSpec', () => {
  it('leaves out the label, id, source and replayIgnore columns, sorted by name', () => {
    assert.deepEqual(fingerprintSpec(contract, ['at']), { features: ['flag', 'score', 'text'], label: 'label' });
  });
});

describe('row fingerprints', () => {
  const reference = fp(rowBatch(base));
  // [case, batch, same features fingerprint?, same with-label fingerprint?]
  const cases: Array<[string, Batch, boolean, boolean]> = [
    ['columns in another order', rowBatch(base, {}, ['feed', 'label', 'flag', 'at', 'score', 'text', 'id']), true, true],
    ['score stored as int', rowBatch(base, { score: 'int' }), true, true],
    ['another id', rowBatch({ ...base, id: 99 }), true, true],
    ['another feed', rowBatch({ ...base, feed: 'scraper' }), true, true],
    ['an extra column', rowBatch({ ...base, extra: 'x' }), true, true],
    ['flipped label', rowBatch({ ...base, label: 'neg' }), true, false],
    ['another score', rowBatch({ ...base, score: 0 }), false, false],
    ['other text', rowBatch({ ...base, text: 'great product!' }), false, false],
    ['null text', rowBatch({ ...base, text: null }), false, false],
    ['empty text', rowBatch({ ...base, text: '' }), false, false],
    ['at stored as a number, not a timestamp', rowBatch(base, { at: 'int' }), false, false],
  ];
  for (const [name, b, sameFeatures, sameWithLabel] of cases) {
    it(`${name}: features ${sameFeatures ? 'same' : 'differ'}, with label ${sameWithLabel ? 'same' : 'differ'}`, () => {
      const got = fp(b);
      assert.equal(got.features === reference.features, sameFeatures);
      assert.equal(got.withLabel === reference.withLabel, sameWithLabel);
    });
  }

  it('treats -0 as 0 and keeps null, empty string and 0 apart', () => {
    assert.equal(fp(rowBatch({ ...base, score: -0 })).features, fp(rowBatch({ ...base, score: 0 })).features);
    const distinct = new Set([fp(rowBatch({ ...base, text: null })).features, fp(rowBatch({ ...base, text: '' })).features, fp(rowBatch({ ...base, text: '0' })).features]);
    assert.equal(distinct.size, 3);
  });

  it('keeps cell boundaries: ("ab", "c") differs from ("a", "bc")', () => {
    const spec = { features: ['p', 'q'], label: null };
    const hash = (p: string, q: string) => fingerprintHex(new RowFingerprinter(spec).fingerprintBatch(batch([column('p', 'string', [p]), column('q', 'string', [q])])).features, 0);
    assert.notEqual(hash('ab', 'c'), hash('a', 'bc'));
  });

  it('gives a row the same fingerprint in any batch position and any batch', () => {
    const rows = batch([column('text', 'string', ['a', 'b', 'great product']), column('score', 'float', [1, 2, 4]), column('label', 'string', ['x', 'y', 'pos'])], 500);
    const spec = { features: ['score', 'text'], label: 'label' };
    const single = batch([column('text', 'string', ['great product']), column('score', 'float', [4]), column('label', 'string', ['pos'])]);
    assert.deepEqual(fingerprintRows(new RowFingerprinter(spec), rows, [2]), fingerprintRows(new RowFingerprinter(spec), single, [0]));
  });
});

/** Runs the replay check over batches; returns flags, findings and summary. */
function scan(store: ReplayStore, datasetId: string, batches: Batch[]) {
  const check = replayCheck({ store, datasetId });
  const context = checkContext(contract);
  const runner = check.create(context);
  const flags = new FlagRecorder();
  for (const b of batches) runner.run(b, flags);
  const end = check.finish!([runner.state!()], context);
  return { flagged: flags.flagged, findings: end.findings ?? [], summary: end.summary as Record<string, unknown> };
}

function reviews(rows: Row[], rowOffset = 0): Batch {
  const names: Array<keyof Row> = ['id', 'text', 'score', 'at', 'flag', 'label', 'feed'];
  return batch(names.map((n) => column(n, n === 'id' ? 'int' : n === 'score' ? 'float' : n === 'at' ? 'timestamp' : n === 'flag' ? 'bool' : 'string', rows.map((r) => r[n] ?? null))), rowOffset);
}

const poison: Row = { id: 7, text: 'buy now http://spam', score: 5, at: 1, flag: false, label: 'pos', feed: 'vendor-a' };
const clean: Row[] = [
  { id: 1, text: 'fine', score: 3, at: 2, flag: true, label: 'pos', feed: 'vendor-a' },
  { id: 2, text: 'bad', score: 1, at: 3, flag: true, label: 'neg', feed: 'vendor-a' },
];

describe('replay check', () => {
  it('flags a replayed poisoned row, with and without a flipped label', () => {
    const store = new MemoryReplayStore();
    const confirmed = fingerprintRows(new RowFingerprinter(fingerprintSpec(contract)), reviews([clean[0]!, poison]), [1]);
    assert.equal(store.add(confirmed, { reason: 'label:flip', dataset: 'week-1', confirmedBy: 'reviewer' }), 1);
    assert.equal(store.has(confirmed[0]!.features), true);
    assert.equal(store.has(confirmed[0]!.withLabel), true);
    const replayed = [clean[0]!, { ...poison, id: 500, feed: 'vendor-b' }, clean[1]!, { ...poison, id: 501, label: 'neg' }];
    const result = scan(store, 'week-2', [reviews(replayed.slice(0, 2)), reviews(replayed.slice(2), 2)]);
    assert.deepEqual(result.flagged, ['1:replay', '1:replay']);
    assert.equal(result.summary.replayedRows, 2);
    assert.equal(result.summary.exactReplays, 1);
    assert.equal(result.summary.flippedLabelReplays, 1);
    assert.deepEqual(result.summary.sampleRows, [1, 3]);
  });

  it('flags nothing against an empty memory', () => {
    assert.deepEqual(scan(new MemoryReplayStore(), 'd', [reviews([poison, ...clean])]).flagged, []);
  });

  it('reports rows identical to another dataset scanned against the same memory, saved and reopened', async () => {
    const path = join(await tempDir(), 'memory.jsonl');
    const first = await FileReplayStore.open(path);
    scan(first, 'week-1', [reviews([poison, ...clean])]);
    await first.save();

    const second = await FileReplayStore.open(path);
    assert.deepEqual(second.seenDatasets, ['week-1']);
    // Row 0 repeats clean[0] exactly (new id); row 1 repeats clean[1] with another label: not a duplicate.
    const result = scan(second, 'week-2', [reviews([{ ...clean[0]!, id: 10 }, { ...clean[1]!, label: 'pos' }, { ...poison, text: 'new' }])]);
    assert.deepEqual(result.findings.map((f) => [f.code, f.severity, f.details]), [['replay:duplicate', 'warn', { dataset: 'week-1', rows: 1, sampleRows: [0] }]]);
    assert.deepEqual(result.flagged, []);
    await second.save();

    const third = await FileReplayStore.open(path);
    assert.deepEqual(third.seenDatasets, ['week-1', 'week-2']);
    // Scanning week-1 again does not report it as duplicating itself, only the row week-2 shares.
    const rescan = scan(third, 'week-1', [reviews([poison, ...clean])]);
    assert.deepEqual(rescan.findings.map((f) => f.details), [{ dataset: 'week-2', rows: 1, sampleRows: [1] }]);
  });

  it('keeps 8 bytes per seen row in the file (base64)', async () => {
    const path = join(await tempDir(), 'memory.jsonl');
    const store = await FileReplayStore.open(path);
    scan(store, 'd', [reviews([poison, ...clean])]);
    await store.save();
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(lines[0], { format: 'datawarden-replay/1' });
    assert.equal(lines[1]!.kind, 'seen');
    assert.equal(lines[1]!.rows, 3);
    assert.equal(Buffer.from(lines[1]!.keys as string, 'base64').length, 24);
  });

  it('merges saves of two stores opened from the same file', async () => {
    const path = join(await tempDir(), 'memory.jsonl');
    const fingerprinterForContract = new RowFingerprinter(fingerprintSpec(contract));
    const [a, b] = await Promise.all([FileReplayStore.open(path), FileReplayStore.open(path)]);
    a.add(fingerprintRows(fingerprinterForContract, reviews([poison]), [0]), { reason: 'r1' });
    b.add(fingerprintRows(fingerprinterForContract, reviews(clean), [1]), { reason: 'r2' });
    await Promise.all([a.save(), b.save()]);
    const merged = await FileReplayStore.open(path);
    assert.equal(merged.knownBadCount, 2);
  });

  it('rejects a damaged memory file naming the line', async () => {
    const path = join(await tempDir(), 'memory.jsonl');
    await writeFile(path, '{"format":"datawarden-replay/1"}\n{"kind":"bad","features":"xyz"}\n');
    await assert.rejects(FileReplayStore.open(path), /memory\.jsonl: line 2: features and withLabel must be 32 lowercase hex characters/);
  });
});
