import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../../src/core/errors.js';
import { Random } from '../../src/core/random.js';
import type { Batch } from '../../src/core/types.js';
import { encodeLabels } from '../../src/detectors/label-model.js';
import {
  TriggerAccumulator,
  binOf,
  fitTriggerBaseline,
  logTailBound,
  triggerBaselineFromJson,
  triggerReason,
  triggerRows,
  type BinnedColumnBaseline,
  type Trigger,
  type TriggerBaseline,
} from '../../src/detectors/triggers.js';
import { batch, numeric, sliceBatch, strings } from './helpers.js';

const COLOURS = ['red', 'green', 'blue', 'grey'];
const LABELS = ['cat', 'dog'];

/** Clean rows: a colour, a continuous x in [0, 1), a discrete count 0..4, a random label. */
function cleanRows(n: number, seed: number) {
  const random = new Random(seed);
  const colour: string[] = [];
  const x: number[] = [];
  const count: number[] = [];
  const label: string[] = [];
  for (let i = 0; i < n; i++) {
    colour.push(COLOURS[random.nextInt(4)]!);
    x.push(random.nextFloat());
    count.push(random.nextInt(5));
    label.push(LABELS[random.nextInt(2)]!);
  }
  return { colour, x, count, label };
}

function toBatch(rows: ReturnType<typeof cleanRows>): Batch {
  return batch([strings('colour', rows.colour), numeric('x', rows.x), numeric('count', rows.count, 'int'), strings('label', rows.label)]);
}

function fitBaseline(seed = 1): TriggerBaseline {
  const trusted = toBatch(cleanRows(4000, seed));
  const { classes, codes } = encodeLabels(trusted.byName.get('label')!);
  return fitTriggerBaseline(['colour', 'x', 'count'].map((n) => trusted.byName.get(n)!), codes, classes);
}

/** Scans a batch in one go and returns the reasons decided and the rows flagged. */
function scan(baseline: TriggerBaseline, data: Batch) {
  const accumulator = new TriggerAccumulator(baseline, 'label');
  const codes = accumulator.add(data);
  const triggers = accumulator.decide();
  const found = triggerRows(data, triggers, baseline, codes);
  return { triggers, reasons: triggers.map(triggerReason), rows: [...found.rows] };
}

test('the baseline: keyed categories and discrete numbers, quantile bins for continuous ones', () => {
  const baseline = fitBaseline();
  assert.deepEqual(baseline.classes, ['cat', 'dog']);
  assert.deepEqual(baseline.columns.map((c) => [c.column, c.kind]), [
    ['colour', 'keys'],
    ['x', 'bins'],
    ['count', 'keys'],
  ]);
  const x = baseline.columns[1]!;
  assert.ok(x.kind === 'bins');
  // 4000 rows, about 10 rows a bin: 400 bins, so 399 inner edges.
  assert.equal(x.edges.length, 399);
  assert.equal(x.counts.reduce((a, b) => a + b, 0), 4000);
  assert.deepEqual(x.spikes, []);
});

const poisonCases: { name: string; poison: (rows: ReturnType<typeof cleanRows>, i: number) => void; reason: string; kind: string }[] = [
  { name: 'a category absent from the baseline', poison: (r, i) => (r.colour[i] = 'ultraviolet'), reason: 'trigger:colour=ultraviolet', kind: 'key' },
  { name: 'an exact value inside the baseline range', poison: (r, i) => (r.x[i] = 0.4321), reason: 'trigger:x=0.4321', kind: 'value' },
  { name: 'a value beyond the baseline range', poison: (r, i) => (r.x[i] = 7), reason: 'trigger:x=7', kind: 'value' },
  { name: 'a discrete value the baseline never had', poison: (r, i) => (r.count[i] = 9), reason: 'trigger:count=9', kind: 'key' },
];

for (const { name, poison, reason, kind } of poisonCases) {
  test(`trigger: ${name}, on 3% of rows with the target label, is found and exactly its rows flagged`, () => {
    const baseline = fitBaseline();
    const rows = cleanRows(2000, 2);
    const poisoned: number[] = [];
    for (let i = 5; i < 2000; i += 33) {
      poison(rows, i);
      rows.label[i] = 'cat';
      poisoned.push(i);
    }
    const result = scan(baseline, toBatch(rows));
    assert.deepEqual(result.reasons, [reason]);
    assert.equal(result.triggers[0]!.kind, kind);
    assert.equal(result.triggers[0]!.label, 'cat');
    // Beyond the range, a clean row or two just above the baseline maximum shares the trigger's bin.
    assert.ok(result.triggers[0]!.purity >= 0.95, `purity ${result.triggers[0]!.purity}`);
    assert.deepEqual(result.rows, poisoned);
  });
}

test('clean data from the same distribution: no trigger', () => {
  const baseline = fitBaseline();
  for (const seed of [2, 3, 4]) assert.deepEqual(scan(baseline, toBatch(cleanRows(3000, seed))).reasons, [], `seed ${seed}`);
});

test('not triggers: a new value with mixed labels, a common value with one label, too few rows', () => {
  const baseline = fitBaseline();
  const mixed = cleanRows(2000, 5);
  for (let i = 0; i < 2000; i += 20) mixed.colour[i] = 'ultraviolet'; // labels stay random
  assert.deepEqual(scan(baseline, toBatch(mixed)).reasons, []);
  const common = cleanRows(2000, 6);
  for (let i = 0; i < 2000; i++) if (common.colour[i] === 'red') common.label[i] = 'cat'; // red is 25% of the baseline
  assert.deepEqual(scan(baseline, toBatch(common)).reasons, []);
  const few = cleanRows(2000, 7);
  for (let i = 0; i < 9; i++) {
    few.colour[i * 100] = 'ultraviolet';
    few.label[i * 100] = 'cat';
  }
  assert.deepEqual(scan(baseline, toBatch(few)).reasons, []);
});

/** Other values of the bin of x that holds `value`, 1e-6 apart, up to `steps` steps either side of it. */
function sameBinValues(x: BinnedColumnBaseline, value: number, steps: number): number[] {
  const bin = binOf(x, value);
  return Array.from({ length: 2 * steps }, (_, i) => value + (i - steps) * 1e-6).filter((v) => v !== value && binOf(x, v) === bin);
}

test('a value is judged on the rows that surely hold it, not on its whole bin', () => {
  const baseline = fitBaseline();
  const x = baseline.columns[1]!;
  assert.ok(x.kind === 'bins');
  const value = 0.4321;
  const bin = binOf(x, value);
  // Eight other values of the same bin come first and cancel each other's votes; then 20 rows
  // of the trigger value, so its vote ends at 20 in a bin of 28 rows.
  const others = sameBinValues(x, value, 200);
  assert.ok(others.length >= 8);
  const rows = cleanRows(3000, 21);
  for (let i = 0; i < 3000; i++) if (binOf(x, rows.x[i]!) === bin) rows.x[i] = 0.9;
  for (let i = 0; i < 8; i++) {
    rows.x[i] = others[i * 10]!;
    rows.label[i] = 'cat';
  }
  for (let i = 100; i < 3000; i += 145) {
    rows.x[i] = value;
    rows.label[i] = 'cat';
  }
  const [trigger] = scan(baseline, toBatch(rows)).triggers;
  assert.equal(trigger?.display, '0.4321');
  assert.equal(trigger.kind, 'value');
  // Judged on its own 20 rows, not the bin's 28 (absent from the baseline: 1 row of 4000).
  assert.equal(trigger.rows, 20);
  assert.equal(trigger.lift, 20 / 3000 / (1 / 4000));
});

test('a trigger value among many clean rows of its bin is found as that value, and only its rows flagged', () => {
  const baseline = fitBaseline();
  const x = baseline.columns[1]!;
  assert.ok(x.kind === 'bins');
  const value = 0.6543;
  const sameBin = sameBinValues(x, value, 1000);
  const rows = cleanRows(3000, 23);
  const random = new Random(23);
  // 30 clean rows in the bin (random labels) and 40 trigger rows, in turns: the value holds 40 of 70.
  const poisoned: number[] = [];
  for (let k = 0; k < 70; k++) {
    const i = 20 + k * 40;
    if (k % 7 < 3) {
      rows.x[i] = sameBin[random.nextInt(sameBin.length)]!;
    } else {
      rows.x[i] = value;
      rows.label[i] = 'cat';
      poisoned.push(i);
    }
  }
  const found = scan(baseline, toBatch(rows));
  assert.deepEqual(found.reasons, ['trigger:x=0.6543']);
  assert.deepEqual(found.rows, poisoned);
});

test('a trigger next to a heavy spike is not hidden by it', () => {
  const random = new Random(8);
  const make = (n: number) => {
    const x = Array.from({ length: n }, () => (random.nextFloat() < 0.3 ? 0 : random.nextFloat()));
    const label = Array.from({ length: n }, () => LABELS[random.nextInt(2)]!);
    return { x, label };
  };
  const trusted = make(4000);
  const labels = encodeLabels(strings('label', trusted.label));
  const baseline = fitTriggerBaseline([numeric('x', trusted.x)], labels.codes, labels.classes);
  assert.ok(baseline.columns[0]!.kind === 'bins' && baseline.columns[0]!.spikes.includes(0));
  const scanned = make(2000);
  for (let i = 0; i < 2000; i += 40) {
    scanned.x[i] = 0.000123;
    scanned.label[i] = 'dog';
  }
  const data = batch([numeric('x', scanned.x), strings('label', scanned.label)]);
  const result = scan(baseline, data);
  assert.deepEqual(result.reasons, ['trigger:x=0.000123']);
  assert.deepEqual(result.rows, Array.from({ length: 50 }, (_, k) => k * 40));
});

test('only rows with the trigger label are flagged', () => {
  const baseline = fitBaseline();
  const rows = cleanRows(2000, 9);
  for (let i = 0; i < 2000; i += 50) {
    rows.colour[i] = 'ultraviolet';
    rows.label[i] = 'dog';
  }
  rows.label[100] = 'cat'; // one row with the trigger value and the other label
  const result = scan(baseline, toBatch(rows));
  assert.deepEqual(result.reasons, ['trigger:colour=ultraviolet']);
  assert.deepEqual(result.rows, Array.from({ length: 40 }, (_, k) => k * 50).filter((r) => r !== 100));
});

test('accumulators merge: batches and workers fold into the same decision', () => {
  const baseline = fitBaseline();
  const rows = cleanRows(3000, 10);
  for (let i = 7; i < 3000; i += 40) {
    rows.x[i] = 0.777;
    rows.label[i] = 'dog';
  }
  const whole = toBatch(rows);
  const one = new TriggerAccumulator(baseline, 'label');
  one.add(whole);
  const merged = new TriggerAccumulator(baseline, 'label');
  for (const [start, end] of [
    [0, 1000],
    [1000, 1700],
    [1700, 3000],
  ] as const) {
    const part = new TriggerAccumulator(baseline, 'label');
    part.add(sliceBatch(whole, start, end));
    merged.merge(part);
  }
  // The same triggers. A value's rows are those its vote is sure of, which depends on how the
  // rows were split up, but never more than it holds (75 rows here).
  const withoutCounts = ({ rows, excessRows, share, lift, ...rest }: Trigger) => rest;
  assert.deepEqual(merged.decide().map(withoutCounts), one.decide().map(withoutCounts));
  assert.deepEqual(one.decide().map(triggerReason), ['trigger:x=0.777']);
  for (const decided of [merged, one]) assert.ok(decided.decide()[0]!.rows >= 70 && decided.decide()[0]!.rows <= 75, String(decided.decide()[0]!.rows));
});

/** Global rows carrying a decided trigger, found batch by batch as the routing pass does. */
function rowsByBatch(accumulator: TriggerAccumulator, baseline: TriggerBaseline, whole: Batch, triggers: ReturnType<TriggerAccumulator['decide']>, batchRows: number): number[] {
  const rows: number[] = [];
  for (let start = 0; start < whole.rowCount; start += batchRows) {
    const part = sliceBatch(whole, start, Math.min(whole.rowCount, start + batchRows));
    const found = triggerRows(part, triggers, baseline, accumulator.labelCodes(part));
    for (const r of found.rows) rows.push(part.rowOffset + r);
  }
  return rows;
}

test('trigger rows: found batch by batch once the counts are decided, in global indices', () => {
  const baseline = fitBaseline();
  const rows = cleanRows(6000, 11);
  const poisoned: number[] = [];
  // The trigger appears from row 1500 on, in every 25th row.
  for (let i = 1500; i < 6000; i += 25) {
    rows.colour[i] = 'ultraviolet';
    rows.label[i] = 'dog';
    poisoned.push(i);
  }
  const whole = toBatch(rows);
  const accumulator = new TriggerAccumulator(baseline, 'label');
  for (let start = 0; start < 6000; start += 1000) accumulator.add(sliceBatch(whole, start, start + 1000));
  const triggers = accumulator.decide();
  assert.deepEqual(triggers.map(triggerReason), ['trigger:colour=ultraviolet']);
  assert.deepEqual(rowsByBatch(accumulator, baseline, whole, triggers, 1000), poisoned);
  // Workers: three ranges, states passed as plain data, merged in order.
  const merged = new TriggerAccumulator(baseline, 'label');
  for (const [start, end] of [
    [0, 2000],
    [2000, 4000],
    [4000, 6000],
  ] as const) {
    const part = new TriggerAccumulator(baseline, 'label');
    part.add(sliceBatch(whole, start, end));
    merged.merge(TriggerAccumulator.fromState(baseline, 'label', structuredClone(part.toState())));
  }
  assert.deepEqual(merged.decide(), triggers);
  assert.deepEqual(rowsByBatch(merged, baseline, whole, triggers, 700), poisoned);
});

test('trigger rows: an exact-value trigger keeps only rows with that value and label', () => {
  const baseline = fitBaseline();
  const rows = cleanRows(3000, 12);
  const poisoned: number[] = [];
  for (let i = 3; i < 3000; i += 30) {
    rows.x[i] = 0.25;
    rows.label[i] = 'cat';
    poisoned.push(i);
  }
  // Same value, other label: not a trigger row.
  rows.x[1] = 0.25;
  rows.label[1] = 'dog';
  const whole = toBatch(rows);
  const accumulator = new TriggerAccumulator(baseline, 'label');
  for (let start = 0; start < 3000; start += 500) accumulator.add(sliceBatch(whole, start, start + 500));
  const triggers = accumulator.decide();
  assert.deepEqual(triggers.map(triggerReason), ['trigger:x=0.25']);
  assert.deepEqual(rowsByBatch(accumulator, baseline, whole, triggers, 500), poisoned);
  // Every labelled row with the value is counted, per label (cat, dog), flagged or not.
  const { carrying } = triggerRows(whole, triggers, baseline, accumulator.labelCodes(whole));
  assert.deepEqual([...carrying], [poisoned.length, 1]);
});

test('drift is not a trigger: a broad shift of a numeric column, many new values in a categorical one', () => {
  const baseline = fitBaseline();
  const shifted = cleanRows(3000, 14);
  // All of x squeezed into its top fifth, with one label: every bin there is up five-fold.
  for (let i = 0; i < 3000; i++) {
    shifted.x[i] = 0.8 + shifted.x[i]! * 0.2;
    shifted.label[i] = 'cat';
  }
  const accumulator = new TriggerAccumulator(baseline, 'label');
  accumulator.add(toBatch(shifted));
  assert.deepEqual(accumulator.decide().filter((t) => t.column === 'x'), []);
  const renamed = cleanRows(3000, 15);
  for (let i = 0; i < 3000; i++) {
    if (i % 3 === 0) continue;
    renamed.colour[i] = `new-${i % 10}`;
    renamed.label[i] = 'dog';
  }
  const second = new TriggerAccumulator(baseline, 'label');
  second.add(toBatch(renamed));
  const decision = second.decideWithDrift();
  assert.deepEqual(decision.triggers.filter((t) => t.column === 'colour'), []);
  assert.deepEqual(decision.suppressed, [{ column: 'colour', candidates: 10 }]);
});

test('the Chernoff bound on the scan-side tail', () => {
  assert.equal(logTailBound(5, 10, 0.5), 0);
  assert.ok(Math.abs(logTailBound(10, 10, 0.5) - 10 * Math.log(0.5)) < 1e-12);
  assert.ok(logTailBound(30, 31, 0.5) < logTailBound(13, 15, 0.5));
});

test('the baseline survives JSON and damaged baselines are rejected', () => {
  const baseline = fitBaseline();
  const copy = triggerBaselineFromJson(JSON.parse(JSON.stringify(baseline)));
  assert.deepEqual(copy, baseline);
  const x = baseline.columns[1]!;
  const cases: [unknown, RegExp][] = [
    [{ ...baseline, version: 3 }, /version must be 1/],
    [{ ...baseline, classCounts: [1] }, /classCounts must hold 2 counts/],
    [{ ...baseline, columns: [{ ...x, edges: [0.5, 0.4] }] }, /edges are not ascending|counts do not match/],
    [{ ...baseline, columns: [{ ...baseline.columns[0], counts: [1, 2, 3] }] }, /keys and counts do not match/],
    [{ ...baseline, columns: [{ kind: 'weird', column: 'q' }] }, /kind must be/],
  ];
  for (const [input, message] of cases) assert.throws(() => triggerBaselineFromJson(input), (e: unknown) => e instanceof InputError && message.test(e.message), String(message));
});

test('keyed string column past maxKeys: values are kept in the order labelled rows first bring them, the rest count as overflow row by row', () => {
  const baseline = fitTriggerBaseline([strings('colour', ['red', 'red'])], Int32Array.from([0, 1]), LABELS, { maxKeys: 2 });
  // 'blue' first appears on a row without a label, so 'green' is the value kept after 'red'.
  const cases: { colour: (string | null)[]; label: (string | null)[]; kept: Record<string, number[]>; overflow: number }[] = [
    {
      colour: ['blue', 'red', 'green', 'blue', 'green', null, 'blue', 'teal'],
      label: [null, 'cat', 'dog', 'cat', 'dog', 'cat', 'dog', 'cat'],
      kept: { red: [1, 0], green: [0, 2] },
      overflow: 3,
    },
    {
      colour: ['blue', 'blue', 'red'],
      label: ['dog', 'dog', 'dog'],
      kept: { blue: [0, 2], red: [0, 1] },
      overflow: 0,
    },
  ];
  for (const { colour, label, kept, overflow } of cases) {
    const accumulator = new TriggerAccumulator(baseline, 'label');
    // Two batches: a value kept in the first stays kept in the second.
    const half = Math.ceil(colour.length / 2);
    accumulator.add(batch([strings('colour', colour.slice(0, half)), strings('label', label.slice(0, half))]));
    accumulator.add(batch([strings('colour', colour.slice(half)), strings('label', label.slice(half))], half));
    const state = accumulator.toState().states[0]!;
    assert.equal(state.kind, 'keys');
    if (state.kind !== 'keys') continue;
    assert.deepEqual(Object.fromEntries([...state.counts].map(([key, row]) => [key, [...row]])), kept);
    assert.equal(state.overflow, overflow);
  }
});
