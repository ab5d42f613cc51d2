// report.md's detector section, from the check summaries report.json carries: one table row per
// detector that ran, and the triggers, label classes and drift tables when there is something in them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reportMarkdown, type CheckReport, type Report } from '../../src/pipeline/report.js';

function reportWith(checks: CheckReport[], model?: Record<string, unknown>): Report {
  return {
    reportVersion: 1,
    tool: { name: 'datawarden', version: '0.0.0' },
    createdAt: '2026-11-29T00:00:00.000Z',
    input: { path: 'in.csv', format: 'csv', sha256: 'a'.repeat(64), bytes: 1, rows: 200, declaredRows: null, columns: [] },
    contract: { name: 'c', path: 'c.contract.json', sha256: 'b'.repeat(64) },
    options: { checks: checks.map((c) => c.id), seed: 42, outputFormat: 'csv' },
    checks,
    findings: [],
    quarantine: { rows: 0, fraction: 0 },
    clean: { rows: 200 },
    gate: { pass: 0.01, warn: 0.05 },
    verdict: 'pass',
    verdictReasons: [],
    exitCode: 0,
    timings: { totalMs: 1 },
    outputs: { clean: 'clean.csv', quarantine: 'quarantine.csv', reportMarkdown: 'report.md' },
    ...(model ? { model } : {}),
  };
}

const check = (id: string, flaggedRows: number, summary: Record<string, unknown>): CheckReport => ({ id, description: '', flaggedRows, reasons: {}, summary });

const outlier = check('outlier', 4, { threshold: 0.61234, maxScore: 0.7, trees: 100, sampleSize: 256 });
const skippedOutlier = check('outlier', 0, { skipped: 'no usable feature column' });
const trigger = check('trigger', 30, {
  triggers: [{ reason: 'trigger:wind=9.99', label: 'sun', rows: 30, share: 0.15, baselineShare: 0, lift: 36.31, purity: 1 }],
  suppressedColumns: [{ column: 'price', candidates: 7 }],
});
const labelFlip = check('label_flip', 9, {
  fitFlaggedShare: 0.0712,
  outOfFoldRows: 0,
  thresholds: { 'a|b': 0.8, c: 0.25 },
  classBalance: { totalVariation: 0.05, pValue: 0.0004, baselineShares: { 'a|b': 0.9, c: 0.1 }, observedShares: { 'a|b': 0.85, c: 0.15 } },
});
const drift = check('drift', 0, {
  thresholds: { psi: { warn: 0.1, fail: 0.25 }, js: { warn: 0.1, fail: 0.2 }, linf: { warn: 0.1, fail: 0.2 }, alpha: 0.01 },
  columns: {
    wind: { kind: 'numeric', rows: 200, psi: 0.31, js: 0.2, linf: 0.12, pValue: 2.5e-9, severity: 'fail', withinChance: false },
    rain: { kind: 'numeric', rows: 200, psi: 0.12, js: 0.1, linf: 0.05, pValue: 0.2, severity: 'ok', withinChance: true },
    city: { kind: 'categorical', rows: 3, psi: 0, js: 0, linf: 0, pValue: 1, severity: null, withinChance: false },
  },
});
const model = { sha256: 'f'.repeat(64), source: 'baseline', path: 'trusted.csv', seed: 42, sampleRows: 800 };

/** The lines of report.md from its detector heading to the line before the closing sentence. */
function detectorSection(report: Report): string[] {
  const lines = reportMarkdown(report).split('\n');
  const start = lines.indexOf('## Detectors');
  return start < 0 ? [] : lines.slice(start, lines.findIndex((l) => l.startsWith('Clean rows:')) - 1);
}

test('report.md: a row per detector, and the trigger, class and drift tables', () => {
  const cases: { name: string; report: Report; expected: string[] }[] = [
    { name: 'rule checks only: no section', report: reportWith([check('schema', 0, {})]), expected: [] },
    {
      name: 'a model file without its path',
      report: reportWith([outlier], { ...model, source: 'file', path: undefined }),
      expected: [
        '## Detectors',
        '',
        'A saved model (800 rows sampled, seed 42; model sha256 `ffffffffffffffff…`).',
        '',
        '| detector | rows flagged | figures |',
        '|---|---:|---|',
        '| outlier | 4 (2.00%) | isolation-forest score above 0.612 (100 trees, psi 256); highest score 0.700 |',
      ],
    },
    {
      name: 'a skipped detector says why; a model fitted on the input says so',
      report: reportWith([skippedOutlier], { ...model, source: 'input', path: undefined }),
      expected: [
        '## Detectors',
        '',
        'Fitted on a sample of this input itself (800 rows sampled, seed 42; model sha256 `ffffffffffffffff…`): drift and triggers have no trusted data to compare with.',
        '',
        '| detector | rows flagged | figures |',
        '|---|---:|---|',
        '| outlier | 0 (0.00%) | skipped: no usable feature column |',
      ],
    },
    {
      name: 'every detector',
      report: reportWith([check('schema', 0, {}), outlier, labelFlip, trigger, drift], model),
      expected: [
        '## Detectors',
        '',
        'Fitted on the baseline `trusted.csv` (800 rows sampled, seed 42; model sha256 `ffffffffffffffff…`).',
        '',
        '| detector | rows flagged | figures |',
        '|---|---:|---|',
        '| outlier | 4 (2.00%) | isolation-forest score above 0.612 (100 trees, psi 256); highest score 0.700 |',
        '| label_flip | 9 (4.50%) | out of fold, the rule flags 7.1% of the rows the model was fitted on; class balance moved by 0.050 (total variation; chi-square p 4.0e-4) |',
        '| trigger | 30 (15.00%) | 1 found (below); columns with too many candidates to be a trigger, left to drift: `price` (7) |',
        '| drift | 0 (0.00%) | 1 of 3 columns drifted (below); quarantines no rows |',
        '',
        '### Suspected backdoor triggers',
        '',
        '| trigger | label | rows | share of labelled rows | share in the baseline | lift | label purity |',
        '|---|---|---:|---:|---:|---:|---:|',
        '| `trigger:wind=9.99` | sun | 30 | 15.00% | 0.00% | 36.3 | 1.000 |',
        '',
        '### Label classes',
        '',
        'A row is a suspected flip when another class reaches its threshold and beats the given label.',
        '',
        '| class | threshold | share of the trusted sample | share of this input |',
        '|---|---:|---:|---:|',
        '| a\\|b | 0.800 | 90.0% | 85.0% |',
        '| c | 0.250 | 10.0% | 15.0% |',
        '',
        '### Drift',
        '',
        'Warn / fail at PSI 0.1 / 0.25 for numeric columns; Jensen-Shannon distance 0.1 / 0.2 or largest share change 0.1 / 0.2 for categorical ones; counted only when the chi-square p-value is below 0.01 / 2 columns judged (else "within chance").',
        '',
        '| column | kind | rows | PSI | Jensen-Shannon distance | largest share change | chi-square p | verdict |',
        '|---|---|---:|---:|---:|---:|---:|---|',
        '| wind | numeric | 200 | 0.310 | 0.200 | 0.120 | 2.5e-9 | **fail** |',
        '| rain | numeric | 200 | 0.120 | 0.100 | 0.050 | 0.200 | ok (within chance) |',
        '| city | categorical | 3 | 0.000 | 0.000 | 0.000 | 1.000 | too few rows |',
      ],
    },
  ];
  for (const c of cases) assert.deepEqual(detectorSection(c.report), c.expected, c.name);
});
