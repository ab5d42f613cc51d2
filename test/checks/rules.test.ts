// The rule checks as tables: each case lists its rows and exactly which rows must be flagged,
// with which reason codes. Every row not listed must stay clean.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { schemaCheck } from '../../src/checks/schema.js';
import { rangeCheck } from '../../src/checks/range.js';
import { labelCheck } from '../../src/checks/label.js';
import { duplicateCheck } from '../../src/checks/duplicate.js';
import { CHECKS } from '../../src/checks/index.js';
import { runChecks, type Row, type RunOptions } from './harness.js';
import type { CheckDefinition } from '../../src/core/check.js';

const gate = { pass: 0.01, warn: 0.05 };

interface Case {
  readonly name: string;
  readonly checks: readonly CheckDefinition[];
  readonly contract: Record<string, unknown>;
  readonly rows: readonly Row[];
  readonly options?: RunOptions;
  /** Row index -> reason codes, in the order the row's _reasons lists them. */
  readonly flagged: Record<number, string[]>;
  readonly findings?: readonly string[];
}

const people = (columns: unknown[], extra: Record<string, unknown> = {}) => ({ name: 'people', gate, columns, ...extra });

const cases: Case[] = [
  {
    name: 'schema: CSV text that does not parse as int, float, bool or timestamp',
    checks: [schemaCheck],
    contract: people([
      { name: 'age', type: 'int' }, { name: 'score', type: 'float' },
      { name: 'ok', type: 'bool' }, { name: 'at', type: 'timestamp' },
    ]),
    options: { types: { age: 'text', score: 'text', ok: 'text', at: 'text' } },
    rows: [
      { age: '41', score: '0.5', ok: 'true', at: '2026-01-02T03:04:05Z' },
      { age: 'forty', score: '1e3', ok: 'yes', at: '2026-01-02' },
      { age: '41.5', score: 'abc', ok: 'maybe', at: '2026-02-30' },
      { age: ' 7 ', score: '-.5', ok: 'F', at: '2026-01-02 03:04:05.123456+02:00' },
      { age: null, score: null, ok: null, at: null },
    ],
    flagged: {
      1: ['schema:unparseable:age'],
      2: ['schema:unparseable:age', 'schema:unparseable:at', 'schema:unparseable:ok', 'schema:unparseable:score'],
    },
  },
  {
    name: 'schema: JSON values of the wrong JSON type',
    checks: [schemaCheck],
    contract: people([{ name: 'age', type: 'int' }, { name: 'city', type: 'string' }, { name: 'vip', type: 'bool' }]),
    options: { types: { age: 'json', city: 'json', vip: 'json' } },
    rows: [
      { age: '30', city: '"Oslo"', vip: 'true' },
      { age: '"30"', city: '12', vip: '1' },
      { age: '30.5', city: '{"a":1}', vip: 'false' },
      { age: 'null', city: 'null', vip: 'null' },
    ],
    flagged: {
      1: ['schema:type:age', 'schema:type:city', 'schema:type:vip'],
      2: ['schema:type:age', 'schema:type:city'],
    },
  },
  {
    name: 'schema: a typed column of another type; float holding integers passes as int',
    checks: [schemaCheck],
    contract: people([{ name: 'n', type: 'int' }, { name: 'label', type: 'string' }]),
    options: { types: { n: 'float', label: 'float' } },
    rows: [{ n: 3, label: 1 }, { n: 3.25, label: null }, { n: null, label: 2 }],
    flagged: { 0: ['schema:type:label'], 1: ['schema:type:n'], 2: ['schema:type:label'] },
  },
  {
    name: 'schema: nulls where the contract forbids them',
    checks: [schemaCheck],
    contract: people([{ name: 'a', type: 'int', nullable: false }, { name: 'b', type: 'string' }]),
    rows: [{ a: 1, b: null }, { a: null, b: 'x' }, { a: 2, b: 'y' }, { a: null, b: null }],
    flagged: { 1: ['schema:null:a'], 3: ['schema:null:a'] },
  },
  {
    name: 'schema: a missing required column holds every row; an extra column only warns',
    checks: [schemaCheck],
    contract: people([{ name: 'a', type: 'int' }, { name: 'b', type: 'int' }, { name: 'c', type: 'int', required: false }]),
    options: { columns: ['a', 'z'], types: { z: 'int' } },
    rows: [{ a: 1, z: 1 }, { a: 2, z: 2 }],
    flagged: { 0: ['schema:missing:b'], 1: ['schema:missing:b'] },
    findings: ['schema:missing:b', 'schema:extra:z'],
  },
  {
    name: 'range: bounds, NaN and infinities on numbers',
    checks: [rangeCheck],
    contract: people([{ name: 'x', type: 'float', min: 0, max: 1 }, { name: 'n', type: 'int', min: 10 }]),
    rows: [
      { x: 0, n: 10 }, { x: 1, n: 99 }, { x: -0.001, n: 10 }, { x: 1.5, n: 9 },
      { x: Number.NaN, n: 10 }, { x: Number.POSITIVE_INFINITY, n: 1e9 }, { x: null, n: null },
    ],
    flagged: { 2: ['range:x'], 3: ['range:n', 'range:x'], 4: ['range:x'], 5: ['range:x'] },
  },
  {
    name: 'range: allowed values and full-match patterns on strings',
    checks: [rangeCheck],
    contract: people([{ name: 'tier', type: 'string', allowed: ['gold', 'silver'] }, { name: 'code', type: 'string', pattern: '[A-Z]{2}[0-9]+' }]),
    rows: [
      { tier: 'gold', code: 'AB12' }, { tier: 'Gold', code: 'AB12' }, { tier: 'silver', code: 'xAB12' },
      { tier: 'bronze', code: 'AB' }, { tier: null, code: null },
    ],
    flagged: { 1: ['range:tier'], 2: ['range:code'], 3: ['range:code', 'range:tier'] },
  },
  {
    name: 'range: timestamp bounds from ISO strings, allowed ints and bools',
    checks: [rangeCheck],
    contract: people([
      { name: 'at', type: 'timestamp', min: '2026-01-01T00:00:00Z', max: '2026-12-31T23:59:59Z' },
      { name: 'k', type: 'int', allowed: [1, 2, 3] },
      { name: 'flag', type: 'bool', allowed: [true] },
    ]),
    rows: [
      { at: '2026-06-01T00:00:00Z', k: 1, flag: true },
      { at: '2025-12-31T23:59:59Z', k: 4, flag: true },
      { at: '2027-01-01T00:00:00Z', k: 2, flag: false },
    ],
    flagged: { 1: ['range:at', 'range:k'], 2: ['range:at', 'range:flag'] },
  },
  {
    name: 'label: missing labels and labels outside the classes; range leaves the label alone',
    checks: [rangeCheck, labelCheck],
    contract: people([{ name: 'x', type: 'float' }, { name: 'y', type: 'int', allowed: [0, 1] }], { label: 'y' }),
    rows: [{ x: 1, y: 0 }, { x: 2, y: 1 }, { x: 3, y: 2 }, { x: 4, y: null }, { x: 5, y: -1 }],
    flagged: { 2: ['label:y'], 3: ['label:y'], 4: ['label:y'] },
  },
  {
    name: 'label: string classes; a null label is not also a schema null',
    checks: [schemaCheck, labelCheck],
    contract: people([{ name: 'y', type: 'string', allowed: ['cat', 'dog'], nullable: false }], { label: 'y' }),
    rows: [{ y: 'cat' }, { y: 'dog' }, { y: 'cow' }, { y: null }],
    flagged: { 2: ['label:y'], 3: ['label:y'] },
  },
  {
    name: 'duplicate: exact copies across batches; the first occurrence stays clean',
    checks: [duplicateCheck],
    contract: people([{ name: 'a', type: 'int' }, { name: 'b', type: 'string' }, { name: 'c', type: 'float' }]),
    options: { batchRows: 2 },
    rows: [
      { a: 1, b: 'x', c: 0.5 }, { a: 1, b: 'x', c: 0.25 }, { a: 1, b: 'x', c: 0.5 }, { a: 1, b: null, c: 0.5 },
      { a: 1, b: null, c: 0.5 }, { a: 1, b: '', c: 0.5 }, { a: 1, b: 'x', c: -0 }, { a: 1, b: 'x', c: 0 },
    ],
    flagged: { 2: ['duplicate'], 4: ['duplicate'], 7: ['duplicate'] },
  },
  {
    name: 'duplicate: a repeated id or unique value; content equal except the id is still a copy',
    checks: [duplicateCheck],
    contract: people([{ name: 'id', type: 'string' }, { name: 'email', type: 'string', unique: true }, { name: 'v', type: 'int' }], { id: 'id' }),
    rows: [
      { id: 'a', email: 'p@x', v: 1 }, { id: 'b', email: 'q@x', v: 2 }, { id: 'a', email: 'r@x', v: 3 },
      { id: 'c', email: 'q@x', v: 4 }, { id: 'd', email: 'p@x', v: 1 }, { id: 'e', email: null, v: 5 }, { id: 'f', email: null, v: 6 },
    ],
    flagged: { 2: ['duplicate'], 3: ['duplicate'], 4: ['duplicate'] },
  },
  {
    name: 'duplicate: with allowDuplicateRows, repeated content passes and a repeated id or unique value is still flagged',
    checks: [duplicateCheck],
    contract: people([{ name: 'id', type: 'string' }, { name: 'email', type: 'string', unique: true }, { name: 'v', type: 'int' }], { id: 'id', allowDuplicateRows: true }),
    options: { batchRows: 2 },
    rows: [
      { id: 'a', email: 'p@x', v: 1 }, { id: 'b', email: null, v: 1 }, { id: 'c', email: null, v: 1 },
      { id: 'a', email: 'q@x', v: 2 }, { id: 'd', email: 'p@x', v: 1 }, { id: 'e', email: null, v: 1 },
    ],
    flagged: { 3: ['duplicate'], 4: ['duplicate'] },
  },
  {
    name: 'duplicate: CSV rows compare their text, so "1.0" and "1" differ',
    checks: [duplicateCheck],
    contract: people([{ name: 'x', type: 'float' }, { name: 'y', type: 'int' }]),
    options: { types: { x: 'text', y: 'text' } },
    rows: [{ x: '1.0', y: 'a' }, { x: '1', y: 'a' }, { x: '1.0', y: 'a' }, { x: '1.0', y: 'b' }],
    flagged: { 2: ['duplicate'] },
  },
  {
    name: 'all rule checks: reasons listed in check order on one row',
    checks: CHECKS,
    contract: people([
      { name: 'id', type: 'int' }, { name: 'x', type: 'float', min: 0, nullable: false }, { name: 'y', type: 'int', allowed: [0, 1] },
    ], { id: 'id', label: 'y' }),
    options: { types: { id: 'text', x: 'text', y: 'text' } },
    rows: [
      { id: '1', x: '5', y: '1' }, { id: '1', x: '-5', y: '7' }, { id: '2', x: 'abc', y: null }, { id: '3', x: null, y: '0' },
    ],
    flagged: {
      1: ['range:x', 'label:y', 'duplicate'],
      2: ['schema:unparseable:x', 'label:y'],
      3: ['schema:null:x'],
    },
  },
];

for (const c of cases) {
  test(c.name, () => {
    const run = runChecks(c.checks, c.contract, c.rows, c.options);
    assert.deepEqual(run.flagged, c.flagged);
    if (c.findings) assert.deepEqual(run.findings.map((f) => f.code), c.findings);
  });
}

test('duplicate: state stays within 16 bytes a row when the row count is known', () => {
  const rows = Array.from({ length: 5000 }, (_, i) => ({ a: i, b: i % 7 }));
  const run = runChecks([duplicateCheck], people([{ name: 'a', type: 'int' }, { name: 'b', type: 'int' }]), rows);
  const summary = run.summaries[0] as { stateBytes: number; distinctRows: number };
  assert.equal(summary.distinctRows, 5000);
  assert.ok(summary.stateBytes / 5000 <= 16, `${summary.stateBytes / 5000} bytes a row`);
});

test('duplicate: with allowDuplicateRows the summary says so, and still counts distinct rows', () => {
  const rows = Array.from({ length: 6 }, (_, i) => ({ id: `r${i}`, v: i % 2 }));
  const contract = people([{ name: 'id', type: 'string' }, { name: 'v', type: 'int' }], { id: 'id', allowDuplicateRows: true });
  const run = runChecks([duplicateCheck], contract, rows);
  assert.deepEqual(run.flagged, {});
  assert.deepEqual(run.summaries[0], { distinctRows: 2, stateBytes: (run.summaries[0] as { stateBytes: number }).stateBytes, repeatsAllowed: true });
});
