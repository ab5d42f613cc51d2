import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sourceCheck } from '../../src/checks/source.js';
import type { Contract } from '../../src/core/contract.js';
import { SourceStats } from '../../src/provenance/source-stats.js';
import { batch, checkContext, column, FlagRecorder } from './helpers.js';

const contract: Contract = {
  name: 'feeds',
  label: 'label',
  source: 'feed',
  gate: { pass: 0.01, warn: 0.05 },
  columns: [
    { name: 'x', type: 'float' },
    { name: 'label', type: 'string' },
    { name: 'feed', type: 'string' },
  ],
  provenance: { allowedSources: ['vendor-a', 'vendor-b'] },
};

describe('source check', () => {
  const cases: Array<{ name: string; feed: Array<string | number | null>; type?: 'string' | 'int'; allowed?: string[]; expected: string[] }> = [
    { name: 'all allowed', feed: ['vendor-a', 'vendor-b', 'vendor-a'], expected: [] },
    { name: 'unknown and null', feed: ['vendor-a', 'scraper', null, 'vendor-b'], expected: ['1:provenance:source', '2:provenance:source'] },
    { name: 'case matters', feed: ['Vendor-A'], expected: ['0:provenance:source'] },
    { name: 'numeric ids compare as text', feed: [7, 8], type: 'int', allowed: ['7'], expected: ['1:provenance:source'] },
  ];
  for (const testCase of cases) {
    it(`${testCase.name} -> ${testCase.expected.join(' ') || 'none flagged'}`, () => {
      const withAllow = testCase.allowed ? { ...contract, provenance: { allowedSources: testCase.allowed } } : contract;
      const context = checkContext(withAllow);
      assert.deepEqual(sourceCheck.begin!(context), []);
      const runner = sourceCheck.create(context);
      const flags = new FlagRecorder();
      runner.run(batch([column('feed', testCase.type ?? 'string', testCase.feed)]), flags);
      assert.deepEqual(flags.flagged, testCase.expected);
    });
  }

  it('summarises rejected sources by rows', () => {
    const context = checkContext(contract);
    const runner = sourceCheck.create(context);
    runner.run(batch([column('feed', 'string', ['x', 'y', 'x', 'vendor-a', null])]), new FlagRecorder());
    assert.deepEqual(sourceCheck.finish!([runner.state!()], context).summary, {
      column: 'feed',
      allowedSources: ['vendor-a', 'vendor-b'],
      rejectedRows: 4,
      rejectedSources: { x: 2, '(null)': 1, y: 1 },
      rejectedSourcesNotListed: 0,
    });
  });

  it('fails the scan when the source column is missing from the input', () => {
    assert.deepEqual(sourceCheck.begin!(checkContext(contract, ['x', 'label'])).map((f) => [f.code, f.severity]), [['provenance:source', 'fail']]);
  });

  const inactive: Array<[string, Contract]> = [
    ['no source column', { ...contract, source: undefined }],
    ['no allowlist', { ...contract, provenance: {} }],
  ];
  for (const [name, inactiveContract] of inactive) {
    it(`flags nothing with ${name}`, () => {
      // Not even a missing source column: there is nothing to check it against.
      assert.deepEqual(sourceCheck.begin!(checkContext(inactiveContract, ['x', 'label'])), []);
      const runner = sourceCheck.create(checkContext(inactiveContract));
      const flags = new FlagRecorder();
      runner.run(batch([column('feed', 'string', ['anything'])]), flags);
      assert.deepEqual(flags.flagged, []);
    });
  }
});

describe('SourceStats', () => {
  const first = batch([column('feed', 'string', ['a', 'a', 'b', null]), column('label', 'int', [1, 0, 1, 1])]);
  const second = batch([column('feed', 'string', ['b', 'b', 'a']), column('label', 'int', [0, 0, null])], 4);
  const quarantinedFirst = Uint8Array.from([0, 1, 1, 0]);
  const quarantinedSecond = Uint8Array.from([1, 0, 0]);
  const hitsFirst = [{ row: 1, code: 'range:max' }, { row: 2, code: 'range:max' }, { row: 2, code: 'replay' }];
  const hitsSecond = [{ row: 0, code: 'replay' }];
  const expected = {
    sourceColumn: 'feed',
    labelColumn: 'label',
    sources: {
      '(null)': { rows: 1, quarantined: 0, reasons: {}, labels: { '1': { rows: 1, quarantined: 0 } } },
      a: { rows: 3, quarantined: 1, reasons: { 'range:max': 1 }, labels: { '(null)': { rows: 1, quarantined: 0 }, '0': { rows: 1, quarantined: 1 }, '1': { rows: 1, quarantined: 0 } } },
      b: { rows: 3, quarantined: 2, reasons: { 'range:max': 1, replay: 2 }, labels: { '0': { rows: 2, quarantined: 1 }, '1': { rows: 1, quarantined: 1 } } },
    },
  };

  it('folds batches into per-source rows, quarantine, reasons and class balance', () => {
    const stats = new SourceStats({ sourceColumn: 'feed', labelColumn: 'label' });
    stats.addBatch(first, quarantinedFirst, hitsFirst);
    stats.addBatch(second, quarantinedSecond, hitsSecond);
    assert.deepEqual(stats.toJSON(), expected);
  });

  it('merges per-batch states into the same result, also through JSON', () => {
    const a = new SourceStats({ sourceColumn: 'feed', labelColumn: 'label' });
    a.addBatch(first, quarantinedFirst, hitsFirst);
    const b = new SourceStats({ sourceColumn: 'feed', labelColumn: 'label' });
    b.addBatch(second, quarantinedSecond, hitsSecond);
    assert.deepEqual(SourceStats.fromJSON(JSON.parse(JSON.stringify(a.toJSON()))).merge(b).toJSON(), expected);
  });

  it('pools sources past maxSources under (other), and counts all rows as (all) without a source column', () => {
    const capped = new SourceStats({ sourceColumn: 'feed', maxSources: 2 });
    capped.addBatch(batch([column('feed', 'string', ['a', 'b', 'c', 'd', 'a'])]), null);
    assert.deepEqual(Object.fromEntries(Object.entries(capped.toJSON().sources).map(([k, v]) => [k, v.rows])), { '(other)': 2, a: 2, b: 1 });
    const all = new SourceStats();
    all.addBatch(first, quarantinedFirst);
    assert.deepEqual(all.toJSON().sources, { '(all)': { rows: 4, quarantined: 2, reasons: {}, labels: {} } });
  });
});
