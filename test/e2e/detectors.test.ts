// The detectors end to end on the shipped example data: fitted on the trusted baseline, they
// catch the injected outliers, backdoor rows and flipped labels; a saved model gives the same
// quarantine; the same seed gives the same result; scores and model details are written.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { schemaError } from '../../src/contract/json-schema.js';
import { loadContract } from '../../src/contract/load.js';
import { fit, saveModel } from '../../src/pipeline/fit.js';
import { ROOT, runCli, tempDir } from '../helpers.js';
import { readAll } from '../io/read-all.js';

const INCOMING = join(ROOT, 'datasets/credit/incoming.csv');
const TRUSTED = join(ROOT, 'datasets/credit/trusted.parquet');
const CONTRACT = join(ROOT, 'schemas/credit.contract.json');

interface Injected { row: number; kind: string }
const truth = JSON.parse(readFileSync(join(ROOT, 'datasets/credit/ground-truth.json'), 'utf8')) as {
  incomingRows: number;
  trigger: { column: string; value: number; label: number };
  injected: Injected[];
};
const rowsOf = (kind: string) => truth.injected.filter((i) => i.kind === kind).map((i) => i.row);

let work = '';
let baselineRun: Map<number, string>;
let baselineReport: Record<string, unknown> & { model: Record<string, unknown>; findings: { code: string; message: string }[] };

async function quarantineOf(path: string): Promise<Map<number, string>> {
  const { values, rows } = await readAll(path, 'typed');
  return new Map(Array.from({ length: rows }, (_, r) => [Number(values._row![r]), String(values._reasons![r])]));
}

async function scanTo(name: string, args: string[], env?: NodeJS.ProcessEnv) {
  const out = join(work, name);
  const result = await runCli(['scan', INCOMING, '--contract', CONTRACT, '--out', out, '--no-audit', ...args], { env });
  assert.ok(result.code === 1 || result.code === 2, result.stderr);
  return { out, quarantine: await quarantineOf(join(out, 'quarantine.csv')), report: JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) };
}

before(async () => {
  work = await tempDir();
  const run = await scanTo('baseline', ['--baseline', TRUSTED, '--emit-scores']);
  baselineRun = run.quarantine;
  baselineReport = run.report;
});

function flaggedBy(check: string, rows: readonly number[], run = baselineRun): number {
  return rows.filter((row) => run.get(row)?.split(';').some((code) => code === check || code.startsWith(`${check}:`))).length;
}

test('outliers: every injected outlier row is flagged, and few clean rows', () => {
  const outliers = rowsOf('outlier');
  assert.equal(flaggedBy('outlier', outliers), outliers.length);
  const injected = new Set(truth.injected.map((i) => i.row));
  const clean = Array.from({ length: truth.incomingRows }, (_, r) => r).filter((r) => !injected.has(r));
  assert.ok(flaggedBy('outlier', clean) <= 0.01 * clean.length, `${flaggedBy('outlier', clean)} clean rows flagged`);
});

test('triggers: the backdoor rows and no others carry the trigger, named by its value in the report', () => {
  const rows = rowsOf('trigger');
  const all = [...baselineRun.keys()].filter((row) => baselineRun.get(row)!.split(';').some((code) => code.startsWith('trigger:')));
  assert.deepEqual(all.sort((a, b) => a - b), [...rows].sort((a, b) => a - b));
  assert.ok(rows.every((row) => baselineRun.get(row)!.split(';').includes(`trigger:loan_amount=${truth.trigger.value}`)));
  const finding = baselineReport.findings.find((f) => f.code === 'trigger:found');
  assert.match(finding!.message, /trigger:loan_amount=7777\.77 -> '1' \(40 rows\)/);
  // report.md lists it with its figures: 2.00% of the labelled rows, never seen in the trusted file.
  const markdown = readFileSync(join(work, 'baseline', 'report.md'), 'utf8');
  assert.match(markdown, /\n\| `trigger:loan_amount=7777\.77` \| 1 \| 40 \| 2\.00% \| 0\.00% \| [\d.]+ \| 1\.000 \|\n/);
});

test('label flips: most flipped rows are flagged, with reasonable precision', () => {
  const flips = rowsOf('flip');
  const caught = flaggedBy('label_flip', flips);
  const all = [...baselineRun.values()].filter((reasons) => reasons.split(';').includes('label_flip')).length;
  assert.ok(caught / flips.length >= 0.6, `recall ${caught}/${flips.length}`);
  assert.ok(caught / all >= 0.5, `precision ${caught}/${all}`);
});

test('the report breaks the scan down by source, and the poisoned feed stands out by name', () => {
  type SourceRow = { rows: number; quarantined: number; reasons: Record<string, number> };
  const section = baselineReport.sources as { sourceColumn: string; sources: Record<string, SourceRow> };
  assert.equal(section.sourceColumn, 'source');
  const sources = Object.entries(section.sources);
  assert.deepEqual(sources.map(([name]) => name).sort(), ['branch', 'partner', 'web']);
  assert.equal(sources.reduce((sum, [, s]) => sum + s.rows, 0), truth.incomingRows);
  // The example data plants the backdoor and most flipped labels in the 'partner' feed.
  const rate = ([, s]: [string, SourceRow]) => s.quarantined / s.rows;
  const worst = [...sources].sort((a, b) => rate(b) - rate(a))[0]!;
  assert.equal(worst[0], 'partner');
  const triggerHits = ([, s]: [string, SourceRow]) => Object.entries(s.reasons).filter(([code]) => code.startsWith('trigger:')).reduce((sum, [, n]) => sum + n, 0);
  const elsewhere = sources.filter(([name]) => name !== 'partner').reduce((sum, s) => sum + triggerHits(s), 0);
  assert.deepEqual([triggerHits(worst), elsewhere], [rowsOf('trigger').length, 0]);
  const markdown = readFileSync(join(work, 'baseline', 'report.md'), 'utf8');
  assert.match(markdown, /## By source \(`source`\)\n\n\| source \|[^\n]*\n\|[^\n]*\n\| partner \|/);
});

test('--emit-scores writes a score for every row; the report carries the model and its histograms', async () => {
  const scores = await readAll(join(work, 'baseline', 'scores.csv'), 'typed');
  assert.equal(scores.rows, truth.incomingRows);
  assert.deepEqual(scores.columns.map((c) => c.name), ['_row', 'outlier_score', 'label_score']);
  assert.deepEqual(scores.values._row, Array.from({ length: truth.incomingRows }, (_, r) => r));
  assert.ok((scores.values.outlier_score as number[]).every((s) => s > 0 && s < 1));
  // Rows whose label is missing or not a class have no label score.
  const unlabeled = truth.injected.filter((i) => i.kind === 'label').map((i) => i.row);
  assert.ok(unlabeled.every((row) => scores.values.label_score![row] === null));
  const model = baselineReport.model;
  assert.equal(model.source, 'baseline');
  assert.match(String(model.sha256), /^[0-9a-f]{64}$/);
  const checks = baselineReport.checks as { id: string; summary: Record<string, unknown> }[];
  const histogram = checks.find((c) => c.id === 'outlier')!.summary.scoreHistogram as { counts: number[] };
  assert.equal(histogram.counts.reduce((a, b) => a + b, 0), truth.incomingRows);
  assert.equal(typeof checks.find((c) => c.id === 'outlier')!.summary.threshold, 'number');
});

test('fit --model, then scan --model: the same quarantine as fitting on the baseline in the scan', async () => {
  const model = join(work, 'credit.model.json');
  const fitted = await runCli(['fit', TRUSTED, '--contract', CONTRACT, '--model', model]);
  assert.equal(fitted.code, 0, fitted.stderr);
  // The label-flip rule's false alarms on the trusted rows, out of fold: 36 of 4,000.
  assert.match(fitted.stdout, /\n  label flips: 0\.9% of the trusted rows flagged out of fold\n$/);
  const reused = await scanTo('reused', ['--model', model]);
  assert.deepEqual([...reused.quarantine], [...baselineRun]);
  assert.equal(reused.report.model.source, 'file');
});

test('the same seed gives the same quarantine; the seed is recorded', async () => {
  const again = await scanTo('again', ['--baseline', TRUSTED, '--seed', '42']);
  assert.deepEqual([...again.quarantine], [...baselineRun]);
  assert.equal(again.report.options.seed, 42);
  const other = await scanTo('other-seed', ['--baseline', TRUSTED, '--seed', '7']);
  assert.equal(other.report.options.seed, 7);
  assert.equal(other.report.model.seed, 7);
});

test('without a baseline the detectors fit on a sample of the scanned data; drift and triggers say they have nothing to compare', async () => {
  const self = await scanTo('self', []);
  assert.equal(self.report.model.source, 'input');
  // The threshold is the input's own 0.995 score quantile: at most 10 of these 2,013 rows, and the
  // 12 planted outliers are more. Those flagged are planted ones, and most of them are.
  const outliers = rowsOf('outlier');
  const flaggedOutliers = [...self.quarantine.values()].filter((reasons) => reasons.split(';').includes('outlier')).length;
  assert.equal(flaggedBy('outlier', outliers, self.quarantine), flaggedOutliers);
  assert.ok(flaggedOutliers >= outliers.length / 2, `${flaggedOutliers} of ${outliers.length}`);
  // A sample of the input is no baseline for drift or triggers: told as information, out of the verdict.
  const told = (report: typeof self.report) => (report.findings as { code: string; severity: string }[]).filter((f) => f.severity === 'info').map((f) => f.code);
  assert.deepEqual(told(self.report), ['trigger:skipped', 'drift:skipped']);
  assert.equal(schemaError('report.schema.json', self.report), null);
  assert.ok((self.report.verdictReasons as string[]).every((reason) => !/skipped/.test(reason)));
  assert.deepEqual(told(baselineReport), []);
});

test('fitted on the scanned data, the rows it was fitted on are judged out of fold, so flipped labels it learnt are caught', async () => {
  const self = await scanTo('self-scores', ['--emit-scores']);
  const summary = (self.report.checks as { id: string; summary: Record<string, unknown> }[]).find((c) => c.id === 'label_flip')!.summary;
  // The whole file is the sample: every labelled row has an out-of-fold score, and that score is its label score.
  const { labelModel } = (await fit({ dataset: INCOMING, contract: await loadContract(CONTRACT), seed: 42, scanned: true })).bundle;
  const { rows, probabilities } = labelModel!.outOfFold!;
  const K = labelModel!.classes.length;
  const scores = await readAll(join(self.out, 'scores.csv'), 'typed');
  const labels = (await readAll(INCOMING, 'typed')).values.approved!;
  assert.equal(summary.outOfFoldRows, rows.length);
  // Out of fold, the rule flags a few percent of the sample (the 60 flips among them), well under the limit.
  assert.ok(typeof summary.fitFlaggedShare === 'number' && summary.fitFlaggedShare > 0 && summary.fitFlaggedShare < 0.1, String(summary.fitFlaggedShare));
  assert.equal(rows.length, scores.values.label_score!.filter((s) => s !== null).length);
  rows.forEach((row, i) => {
    const given = labelModel!.classes.indexOf(String(labels[row]));
    assert.equal(scores.values.label_score![row], probabilities[i * K + given], `row ${row}`);
  });
  // Judged by the model fitted on them, the flipped rows mostly looked right (4 of 60 were caught).
  const flips = rowsOf('flip');
  const flagged = [...self.quarantine].filter(([, reasons]) => reasons.split(';').includes('label_flip')).map(([row]) => row);
  const caught = flips.filter((row) => flagged.includes(row)).length;
  assert.ok(caught >= 0.5 * flips.length, `recall ${caught}/${flips.length}`);
  assert.ok(caught >= 0.4 * flagged.length, `precision ${caught}/${flagged.length}`);
  // A saved model never stands in for rows of another input, even one that carries out-of-fold rows.
  const saved = join(work, 'self.model.json');
  await saveModel(await fit({ dataset: INCOMING, contract: await loadContract(CONTRACT), seed: 42, scanned: true }), saved);
  const reused = await scanTo('self-model', ['--model', saved]);
  const reusedSummary = (reused.report.checks as { id: string; summary: Record<string, unknown> }[]).find((c) => c.id === 'label_flip')!.summary;
  assert.equal(reusedSummary.outOfFoldRows, 0);
});

test('a baseline that does not match the contract stops the scan and the fit, naming the file and the column', async () => {
  // Trusted rows as CSV, then three copies: without the income column, with text in it, and with a few cells of text.
  const csv = join(work, 'trusted.csv');
  assert.equal((await runCli(['convert', TRUSTED, csv])).code, 0);
  const [header, ...rows] = readFileSync(csv, 'utf8').trimEnd().split('\n');
  const income = header!.split(',').indexOf('income');
  const edited = (name: string, edit: (cells: string[], row: number) => string[]) => {
    const path = join(work, name);
    writeFileSync(path, [header!, ...rows].map((line, row) => edit(line.split(','), row - 1).join(',')).join('\n') + '\n');
    return path;
  };
  const cases: { name: string; baseline: string; message: RegExp | null }[] = [
    { name: 'no income column', baseline: edited('no-income.csv', (cells) => cells.filter((_, c) => c !== income)), message: /no-income\.csv: does not match the contract: it lacks column 'income'/ },
    {
      name: 'text in the income column',
      baseline: edited('text-income.csv', (cells, row) => cells.map((cell, c) => (c === income && row >= 0 ? 'n/a' : cell))),
      message: /text-income\.csv: does not match the contract: column 'income' has no value readable as float \(4000 cells are not\)/,
    },
    { name: 'a few cells of text', baseline: edited('some-text.csv', (cells, row) => cells.map((cell, c) => (c === income && row % 400 === 0 ? 'n/a' : cell))), message: null },
  ];
  for (const c of cases) {
    const scanned = await runCli(['scan', INCOMING, '--contract', CONTRACT, '--out', join(work, `bad-baseline-${c.name.replaceAll(' ', '-')}`), '--no-audit', '--baseline', c.baseline]);
    const fitted = await runCli(['fit', c.baseline, '--contract', CONTRACT, '--model', join(work, 'bad-baseline.model.json')]);
    if (c.message === null) {
      assert.ok(scanned.code === 1 || scanned.code === 2, `${c.name}: ${scanned.stderr}`);
      assert.equal(fitted.code, 0, `${c.name}: ${fitted.stderr}`);
    } else {
      for (const run of [scanned, fitted]) {
        assert.equal(run.code, 3, c.name);
        assert.match(run.stderr, c.message, c.name);
      }
    }
  }
  // One value in every trusted row: the detectors do without the column, and say so; drift
  // compares it value by value, so the scan's varied incomes show.
  const constant = edited('one-income.csv', (cells, row) => cells.map((cell, c) => (c === income && row >= 0 ? '50000' : cell)));
  const run = await scanTo('one-income', ['--baseline', constant]);
  const findings = run.report.findings as { code: string; severity: string; message: string }[];
  const dropped = findings.find((f) => f.code === 'detectors:features_dropped');
  assert.equal(dropped?.severity, 'info');
  assert.match(dropped!.message, /column 'income' holds one value \(50000\) in every fitting row/);
  assert.equal(findings.find((f) => f.code === 'drift:income')?.severity, 'fail');
  const fitted = await runCli(['fit', constant, '--contract', CONTRACT, '--model', join(work, 'one-income.model.json')]);
  assert.match(fitted.stdout, /\n  not used: column 'income' holds one value \(50000\) in every fitting row\n/);
});

test('a model fitted for another contract is refused, naming the file', async () => {
  const model = join(work, 'credit.model.json');
  const other = join(work, 'other.contract.json');
  writeFileSync(other, JSON.stringify({ ...JSON.parse(readFileSync(CONTRACT, 'utf8')), name: 'other' }));
  const result = await runCli(['scan', INCOMING, '--contract', other, '--out', join(work, 'refused'), '--model', model]);
  assert.equal(result.code, 3);
  assert.match(result.stderr, /credit\.model\.json: model was fitted for another contract/);
});

test('scoring threads change nothing: the same scores, to the digit, and the same quarantine without them', async () => {
  const single = await scanTo('one-thread', ['--baseline', TRUSTED, '--emit-scores'], { DATAWARDEN_SCORING_THREADS: '0' });
  const several = await scanTo('two-threads', ['--baseline', TRUSTED, '--emit-scores'], { DATAWARDEN_SCORING_THREADS: '2' });
  for (const run of [single, several]) {
    assert.equal(readFileSync(join(run.out, 'scores.csv'), 'utf8'), readFileSync(join(work, 'baseline', 'scores.csv'), 'utf8'));
    assert.equal(readFileSync(join(run.out, 'quarantine.csv'), 'utf8'), readFileSync(join(work, 'baseline', 'quarantine.csv'), 'utf8'));
    assert.equal(readFileSync(join(run.out, 'clean.csv'), 'utf8'), readFileSync(join(work, 'baseline', 'clean.csv'), 'utf8'));
    assert.deepEqual(run.report.checks, baselineReport.checks);
  }
});

test('rows routed before a trigger was decided are routed again: the replay memory keeps the final reasons only', async () => {
  const memory = join(work, 'memory.jsonl');
  const run = await scanTo('memory', ['--baseline', TRUSTED, '--memory', memory]);
  assert.ok([...run.quarantine.values()].some((reasons) => reasons.includes('trigger:')));
  const finalReasons = new Set([...run.quarantine.values()].map((reasons) => reasons.split(';').filter((code) => code !== 'duplicate' && code !== 'replay').join(';')));
  const remembered = readFileSync(memory, 'utf8')
    .split('\n')
    .filter((line) => line.includes('"kind":"bad"'))
    .map((line) => (JSON.parse(line) as { reason: string }).reason);
  assert.ok(remembered.length > 0);
  for (const reason of remembered) assert.ok(finalReasons.has(reason), `remembered reason ${reason} is not a final one`);
  // Every trigger row is remembered with its trigger.
  const triggerRows = [...run.quarantine.values()].filter((reasons) => reasons.includes('trigger:')).length;
  assert.ok(remembered.filter((reason) => reason.includes('trigger:')).length >= triggerRows * 0.9);
});
