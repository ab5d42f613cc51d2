// Detection quality on real data: isolation-forest ROC AUC on the outlier benchmark, label-flip
// precision/recall/F1 on labelled tables, backdoor-trigger recall and false-flag rate, drift
// false alarms and shifts found by scan size.
// Run: npx tsx bench/quality.bench.ts [outliers] [labels] [triggers] [drift] [throughput]   (default: all)
// or, after tsc, node dist/bench/quality.bench.js. For the outliers, DATAWARDEN_AUC_SEEDS=N runs
// seeds 1..N, DATAWARDEN_AUC_FILES=cardio,pima picks files, and DATAWARDEN_AUC_SKLEARN=1 runs
// scikit-learn with the same seeds beside (e.g. all three: how often 5 seeds meet the target).
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { standardDeviation } from 'simple-statistics';
import { join } from 'node:path';
import { driftCheck } from '../src/checks/drift.js';
import { labelFlipCheck } from '../src/checks/label-flip.js';
import { outlierCheck } from '../src/checks/outlier.js';
import { triggerCheck } from '../src/checks/trigger.js';
import type { Contract } from '../src/core/contract.js';
import { Random } from '../src/core/random.js';
import { fitModel, serialiseModel } from '../src/detectors/bundle.js';
import { DriftAccumulator, fitDriftBaseline } from '../src/detectors/drift.js';
import { detectorSettings } from '../src/detectors/settings.js';
import { makeBatch, type Batch, type Column } from '../src/core/types.js';
import { encodeFeatures, fitFeatureEncoder, takeRows, type FeatureMatrix } from '../src/detectors/features.js';
import { fitIsolationForest, scoreIsolationForest } from '../src/detectors/isolation-forest.js';
import { batchThresholds, encodeLabels, findLabelIssues, fitLabelModel, predictLabelProbabilities } from '../src/detectors/label-model.js';
import { TriggerAccumulator, fitTriggerBaseline, triggerReason, triggerRows } from '../src/detectors/triggers.js';
import { readNumericCsv } from './lib/csv.js';
import { machineDescription } from './lib/machine.js';
import { detectionQuality, mean, rocAuc } from './lib/metrics.js';
import { nodeModulesFile, outlierDataDir, repoRoot } from './lib/paths.js';
import { batchFromRecords, breastw, cars, iris, penguins, outlierTable, type LabelledTable } from './lib/tables.js';

const SEEDS = [1, 2, 3, 4, 5];
/** Seeds for the outlier AUCs: 1..DATAWARDEN_AUC_SEEDS (default 5), to look past seed noise. */
const AUC_SEEDS = Array.from({ length: Number(process.env.DATAWARDEN_AUC_SEEDS ?? 5) }, (_, i) => i + 1);
/** The outlier files to run (names without .csv, comma-separated; default all). */
const AUC_FILES = process.env.DATAWARDEN_AUC_FILES?.split(',').map((f) => `${f.trim()}.csv`);
/** Also run scikit-learn's IsolationForest with the same seeds (bench/sklearn_iforest.py). */
const AUC_SKLEARN = process.env.DATAWARDEN_AUC_SKLEARN === '1';
const PYTHON = process.env.DATAWARDEN_PYTHON ?? '/usr/bin/python3';
const fmt = (v: number, digits = 3) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');

// ---------------------------------------------------------------- outliers

interface Published {
  readonly file: string;
  readonly shape: string;
  readonly liu: number | null;
  readonly sklearn: number | null;
}

/** The published AUCs from the benchmark folder's README table. */
function publishedFigures(): Published[] {
  const text = readFileSync(join(outlierDataDir(), 'README.md'), 'utf8');
  const rows: Published[] = [];
  for (const line of text.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 6 || !cells[1]!.endsWith('.csv')) continue;
    const number = (cell: string) => (cell === '-' || cell === '' ? null : Number(cell));
    rows.push({ file: cells[1]!, shape: cells[2]!, liu: number(cells[4]!), sklearn: number(cells[5]!) });
  }
  return rows;
}

/** scikit-learn's AUC for each seed (IsolationForest, 100 trees, 256 rows a tree). */
function sklearnAucs(file: string, seeds: readonly number[]): number[] {
  const script = join(repoRoot(), 'bench', 'sklearn_iforest.py');
  const result = spawnSync(PYTHON, [script, file, '--label', 'is_outlier', '--seeds', seeds.join(',')], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (result.status !== 0) throw new Error(`${PYTHON} ${script} failed: ${result.stderr || result.error?.message}`);
  return result.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { auc: number }).auc);
}

/** For each disjoint run of 5 consecutive seeds: whether its mean AUC reaches the target. */
function fiveSeedRunsReaching(aucs: readonly number[], target: number): boolean[] {
  return Array.from({ length: Math.floor(aucs.length / 5) }, (_, r) => mean(aucs.slice(r * 5, r * 5 + 5)) >= target);
}

/**
 * With many seeds: the standard deviation of one seed's AUC, and how many disjoint runs of 5
 * consecutive seeds have a mean that reaches the target, i.e. how often the 5-seed figure is met.
 */
function seedSpread(aucs: readonly number[], target: number): string {
  const runs = fiveSeedRunsReaching(aucs, target);
  return `sd ${fmt(standardDeviation([...aucs]), 4)}; ${runs.filter(Boolean).length} of ${runs.length} 5-seed runs reach the target`;
}

/** Marks off the 5-seed runs in which some file missed its target, so the survivors met every one. */
function keepRunsReaching(everyFile: boolean[], aucs: readonly number[], target: number): void {
  fiveSeedRunsReaching(aucs, target).forEach((reached, r) => (everyFile[r] &&= reached));
}

function outlierBench(): boolean {
  const many = AUC_SEEDS.length >= 10;
  console.log('## Outliers: isolation forest ROC AUC (100 trees, psi 256, fitted and scored on the whole file)');
  console.log(`Mean over seeds ${many ? `1..${AUC_SEEDS.length}` : AUC_SEEDS.join(', ')}; is_outlier is only used to compute the AUC. Target: >= published - 0.01.`);
  console.log('Published = Liu, Ting & Zhou 2008 where the README has it, else the README\'s scikit-learn mean.\n');
  const extra = [...(many ? ['seed spread'] : []), ...(AUC_SKLEARN ? ['scikit-learn (mean, same seeds)', ...(many ? ['scikit-learn seed spread'] : [])] : [])];
  console.log(`| dataset | rows x features | published | source | target | datawarden (mean) | min..max over seeds | meets target |${extra.map((e) => ` ${e} |`).join('')}`);
  console.log(`|---|---|---|---|---|---|---|---|${extra.map(() => '---|').join('')}`);
  const files = new Set(readdirSync(outlierDataDir()).filter((f) => f.endsWith('.csv') && (AUC_FILES === undefined || AUC_FILES.includes(f))));
  let all = true;
  const runs = Math.floor(AUC_SEEDS.length / 5);
  const oursEveryFile = new Array<boolean>(runs).fill(true);
  const referenceEveryFile = new Array<boolean>(runs).fill(true);
  for (const p of publishedFigures()) {
    if (!files.has(p.file)) continue;
    const table = readNumericCsv(join(outlierDataDir(), p.file));
    const label = table.names.indexOf('is_outlier');
    const features = table.columns.filter((_, i) => i !== label);
    const data = new Float64Array(table.rows * features.length);
    features.forEach((c, i) => data.set(c, i * table.rows));
    const matrix: FeatureMatrix = { rows: table.rows, cols: features.length, data, names: features.map((_, i) => `f${i}`) };
    const aucs = AUC_SEEDS.map((seed) => rocAuc(scoreIsolationForest(fitIsolationForest(matrix, { seed }), matrix), table.columns[label]!));
    const published = p.liu ?? p.sklearn!;
    const target = published - 0.01;
    const ours = mean(aucs);
    const ok = ours >= target;
    all &&= ok;
    const cells = [...(many ? [seedSpread(aucs, target)] : [])];
    keepRunsReaching(oursEveryFile, aucs, target);
    if (AUC_SKLEARN) {
      const reference = sklearnAucs(join(outlierDataDir(), p.file), AUC_SEEDS);
      cells.push(fmt(mean(reference), 4), ...(many ? [seedSpread(reference, target)] : []));
      keepRunsReaching(referenceEveryFile, reference, target);
    }
    console.log(
      `| ${p.file.replace('.csv', '')} | ${p.shape} | ${published} | ${p.liu !== null ? 'Liu 2008' : 'sklearn'} | ${fmt(target, 3)} | ${fmt(ours, 4)} | ${fmt(Math.min(...aucs))}..${fmt(Math.max(...aucs))} | ${ok ? 'yes' : 'NO'} |${cells.map((c) => ` ${c} |`).join('')}`,
    );
  }
  if (many && files.size > 1) {
    const count = (everyFile: boolean[]) => `${everyFile.filter(Boolean).length} of ${runs}`;
    console.log(`\nEvery file's target met at once, in disjoint runs of 5 seeds: datawarden ${count(oursEveryFile)}${AUC_SKLEARN ? `, scikit-learn ${count(referenceEveryFile)}` : ''}.`);
  }
  console.log('');
  return all;
}

// ---------------------------------------------------------------- label flips

interface Noise {
  readonly name: string;
  /** Returns the noisy labels and the rows flipped. */
  apply(codes: Int32Array, classes: number, random: Random): { noisy: Int32Array; flipped: Set<number> };
}

function uniformFlips(rate: number): Noise {
  return {
    name: `uniform ${Math.round(rate * 100)}%`,
    apply(codes, classes, random) {
      const labelled = [...codes.keys()].filter((r) => codes[r]! >= 0);
      random.shuffle(labelled);
      const flipped = new Set(labelled.slice(0, Math.round(rate * labelled.length)));
      const noisy = Int32Array.from(codes);
      for (const r of flipped) {
        let k = random.nextInt(classes - 1);
        if (k >= noisy[r]!) k++;
        noisy[r] = k;
      }
      return { noisy, flipped };
    },
  };
}

/** rate x (labelled rows) rows of the largest class relabelled as the second largest (at most half the class). */
function classFlips(rate: number): Noise {
  return {
    name: `class-conditional ${Math.round(rate * 100)}%`,
    apply(codes, classes, random) {
      const counts = new Array<number>(classes).fill(0);
      for (const c of codes) if (c >= 0) counts[c]!++;
      const order = counts.map((_, k) => k).sort((a, b) => counts[b]! - counts[a]! || a - b);
      const [from, to] = [order[0]!, order[1]!];
      const rows = [...codes.keys()].filter((r) => codes[r] === from);
      random.shuffle(rows);
      const labelled = counts.reduce((a, b) => a + b, 0);
      const flipped = new Set(rows.slice(0, Math.min(Math.round(rate * labelled), Math.floor(rows.length / 2))));
      const noisy = Int32Array.from(codes);
      for (const r of flipped) noisy[r] = to;
      return { noisy, flipped };
    },
  };
}

/** A table's standardised feature matrix and its label codes. */
function encodedTable(table: LabelledTable): { matrix: FeatureMatrix; classes: string[]; codes: Int32Array } {
  const encoder = fitFeatureEncoder(table.features.map((n) => table.batch.byName.get(n)!));
  return { matrix: encodeFeatures(encoder, table.batch, 'standardised'), ...encodeLabels(table.batch.byName.get(table.label)!) };
}

/** The labelled rows, shuffled and cut in two: a half to fit on (trusted) and a half to scan. */
function splitHalves(codes: Int32Array, random: Random): { rows: number[]; trusted: number[]; scanned: number[] } {
  const rows = [...codes.keys()].filter((r) => codes[r]! >= 0);
  random.shuffle(rows);
  const half = rows.length >> 1;
  return { rows, trusted: rows.slice(0, half), scanned: rows.slice(half) };
}

function labelTables(): LabelledTable[] {
  return [penguins(), cars(), iris(), breastw()];
}

function labelBench(): boolean {
  console.log('## Label flips: confident learning on out-of-fold probabilities (logistic regression + extra trees, 5 folds)');
  console.log('Setting: the classic one. The label model is fitted on the noisy table itself; each row is judged by');
  console.log(`a model that did not see it (5-fold out-of-fold). Mean over seeds ${SEEDS.join(', ')} (noise and folds).`);
  console.log('Target: mean F1 >= 0.85 at 10% uniform flips, averaged over the datasets.\n');
  const noises = [uniformFlips(0.05), uniformFlips(0.1), uniformFlips(0.2), classFlips(0.05), classFlips(0.1), classFlips(0.2)];
  const tables = labelTables();
  console.log('| dataset | noise | flipped rows | precision | recall | F1 |');
  console.log('|---|---|---|---|---|---|');
  const f1At10: number[] = [];
  for (const table of tables) {
    const { matrix, classes, codes } = encodedTable(table);
    for (const noise of noises) {
      const results = SEEDS.map((seed) => {
        const random = new Random(seed * 7919);
        const { noisy, flipped } = noise.apply(codes, classes.length, random);
        const fit = fitLabelModel(matrix, noisy, classes, { seed });
        return { ...detectionQuality(new Set(fit.suspects), flipped), flipped: flipped.size };
      });
      const f1 = mean(results.map((r) => r.f1));
      if (noise.name === 'uniform 10%') f1At10.push(f1);
      console.log(
        `| ${table.name} | ${noise.name} | ${results[0]!.flipped} | ${fmt(mean(results.map((r) => r.precision)))} | ${fmt(mean(results.map((r) => r.recall)))} | ${fmt(f1)} |`,
      );
    }
  }
  const average = mean(f1At10);
  console.log(`\nMean F1 at 10% uniform flips over ${tables.map((t) => t.name).join(', ')}: ${fmt(average)} (target 0.85: ${average >= 0.85 ? 'met' : 'NOT met'})`);
  console.log('Datasets: ' + tables.map((t) => `${t.name}: ${t.description}`).join('; ') + '.\n');

  console.log('### Streaming setting: fitted on a clean half, scanning the other half with 10% uniform flips');
  console.log('(the scan flags each batch with its own thresholds pulled toward the fitted ones; one batch here)\n');
  console.log('| dataset | flipped rows | precision | recall | F1 | F1 with the fitted thresholds only | trusted rows flagged out of fold |');
  console.log('|---|---|---|---|---|---|---|');
  for (const table of tables) {
    const { matrix, classes, codes } = encodedTable(table);
    const results = SEEDS.map((seed) => {
      const random = new Random(seed * 7919);
      const { trusted, scanned } = splitHalves(codes, random);
      const fit = fitLabelModel(takeRows(matrix, trusted), Int32Array.from(trusted, (r) => codes[r]!), classes, { seed });
      const { noisy, flipped } = uniformFlips(0.1).apply(Int32Array.from(scanned, (r) => codes[r]!), classes.length, random);
      const p = predictLabelProbabilities(fit.model!, takeRows(matrix, scanned));
      const streamed = findLabelIssues(p, noisy, batchThresholds(p, noisy, fit.model!.thresholds));
      const fixed = findLabelIssues(p, noisy, fit.model!.thresholds);
      return {
        ...detectionQuality(new Set(streamed.suspects), flipped),
        fixedF1: detectionQuality(new Set(fixed.suspects), flipped).f1,
        flipped: flipped.size,
        falseAlarms: fit.model!.fitFlagged!,
      };
    });
    console.log(
      `| ${table.name} | ${results[0]!.flipped} | ${fmt(mean(results.map((r) => r.precision)))} | ${fmt(mean(results.map((r) => r.recall)))} | ${fmt(mean(results.map((r) => r.f1)))} | ${fmt(mean(results.map((r) => r.fixedF1)))} | ${fmt(mean(results.map((r) => r.falseAlarms)))} |`,
    );
  }
  console.log('');
  noSignalBench(tables);
  return average >= 0.85;
}

/**
 * The same tables with their labels shuffled, so that the features say nothing about them: the
 * share of trusted rows the rule flags out of fold, against the limit above which a fit skips the
 * detector (detectors.label_flip.maxFalseAlarms), and the share of new rows a scan would flag.
 */
function noSignalBench(tables: readonly LabelledTable[]): void {
  const limit = detectorSettings({ name: 'bench', columns: [] } as unknown as Contract).labelFlip.maxFalseAlarms;
  console.log('### Labels the features do not predict: the same tables with their labels shuffled');
  console.log(`(fitted on a half, out-of-fold flags on it; a fit skips the detector above ${limit} of its trusted rows flagged)\n`);
  console.log('| dataset | trusted rows flagged out of fold (original labels) | (shuffled labels) | fits skipped (shuffled) | new rows a scan would flag (shuffled) |');
  console.log('|---|---|---|---|---|');
  for (const table of tables) {
    const { matrix, classes, codes } = encodedTable(table);
    const results = SEEDS.map((seed) => {
      const random = new Random(seed * 7919);
      const { rows, trusted, scanned } = splitHalves(codes, random);
      // The labels of the labelled rows, dealt out again at random.
      const shuffled = Int32Array.from(codes);
      const dealt = random.shuffle(rows.map((r) => codes[r]!));
      rows.forEach((r, i) => (shuffled[r] = dealt[i]!));
      const fitOn = (labels: Int32Array) => fitLabelModel(takeRows(matrix, trusted), Int32Array.from(trusted, (r) => labels[r]!), classes, { seed }).model!;
      const original = fitOn(codes);
      const noSignal = fitOn(shuffled);
      const scannedLabels = Int32Array.from(scanned, (r) => shuffled[r]!);
      const p = predictLabelProbabilities(noSignal, takeRows(matrix, scanned));
      const flagged = findLabelIssues(p, scannedLabels, batchThresholds(p, scannedLabels, noSignal.thresholds)).suspects.length / scanned.length;
      return { original: original.fitFlagged!, shuffled: noSignal.fitFlagged!, skipped: noSignal.fitFlagged! > limit ? 1 : 0, flagged };
    });
    console.log(
      `| ${table.name} | ${fmt(mean(results.map((r) => r.original)))} | ${fmt(mean(results.map((r) => r.shuffled)))} | ${results.reduce((n, r) => n + r.skipped, 0)} of ${results.length} | ${fmt(mean(results.map((r) => r.flagged)))} |`,
    );
  }
  console.log('');
}

// ---------------------------------------------------------------- triggers

interface TriggerCase {
  readonly name: string;
  readonly table: () => LabelledTable;
  readonly column: string;
  /** The trigger value, chosen from the clean split only. */
  readonly value: (clean: Batch) => number | string;
  /** The attacker's target label (as a label key). */
  readonly target: string;
  /**
   * Fit the baseline on this many rows of the clean half only: a small trusted sample has wide
   * bins, so a trigger value shares its bin with many clean rows.
   */
  readonly trustedRows?: number;
}

function flights(): LabelledTable {
  const records = JSON.parse(readFileSync(nodeModulesFile('vega-datasets', 'data', 'flights-20k.json'), 'utf8')) as Record<string, unknown>[];
  for (const r of records) {
    r.late = (r.delay as number) > 15 ? 'late' : 'on time';
    r.hour = Number(String(r.date).slice(11, 13));
  }
  const batch = batchFromRecords(records, [
    { name: 'late', type: 'string' },
    { name: 'origin', type: 'string' },
    { name: 'destination', type: 'string' },
    { name: 'distance', type: 'float' },
    { name: 'hour', type: 'int' },
  ]);
  return { name: 'flights-20k', description: 'vega-datasets flights-20k.json, label late = delay > 15 min', batch, label: 'late', features: ['origin', 'destination', 'distance', 'hour'] };
}

/** The least frequent value of a string column in a batch (ties: first in sort order). */
function rarestValue(batch: Batch, column: string): string {
  const counts = new Map<string, number>();
  for (const v of batch.byName.get(column)!.values as string[]) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))[0]![0];
}

/** A number inside the column's clean range that the clean split does not hold: its 37th percentile plus 0.123. */
function inRangeValue(batch: Batch, column: string): number {
  const sorted = Float64Array.from(batch.byName.get(column)!.values as Float64Array).sort();
  return sorted[Math.floor(sorted.length * 0.37)]! + 0.123;
}

function rows(batch: Batch, indices: readonly number[]): Batch {
  const columns = batch.columns.map((c): Column => {
    const valid = c.valid === null ? null : Uint8Array.from(indices, (i) => c.valid![i]!);
    if (c.type === 'string') return { ...c, values: indices.map((i) => c.values[i]!), valid, bad: null };
    if (c.type === 'bool') return { ...c, values: Uint8Array.from(indices, (i) => c.values[i]!), valid, bad: null };
    return { ...c, values: Float64Array.from(indices, (i) => c.values[i]!), valid, bad: null };
  });
  return makeBatch(0, indices.length, columns);
}

function triggerBench(): boolean {
  const cases: TriggerCase[] = [
    { name: 'flights: destination = rarest clean airport', table: flights, column: 'destination', value: (b) => rarestValue(b, 'destination'), target: 'on time' },
    { name: 'flights: distance = 1234.5 (absent)', table: flights, column: 'distance', value: () => 1234.5, target: 'late' },
    { name: 'shuttle: f3 in range', table: () => outlierTable('shuttle.csv', ''), column: 'f3', value: (b) => inRangeValue(b, 'f3'), target: '1' },
    { name: 'cover: f2 in range', table: () => outlierTable('cover.csv', ''), column: 'f2', value: (b) => inRangeValue(b, 'f2'), target: '1' },
    { name: 'mammography: f1 in range', table: () => outlierTable('mammography.csv', ''), column: 'f1', value: (b) => inRangeValue(b, 'f1'), target: '0' },
    { name: 'satellite: f10 in range', table: () => outlierTable('satellite.csv', ''), column: 'f10', value: (b) => inRangeValue(b, 'f10'), target: '0' },
    { name: 'satellite: f20 = 255 (beyond range)', table: () => outlierTable('satellite.csv', ''), column: 'f20', value: () => 255, target: '1' },
    { name: 'cover: f2 in range, 1,000 trusted rows', table: () => outlierTable('cover.csv', ''), column: 'f2', value: (b) => inRangeValue(b, 'f2'), target: '1', trustedRows: 1000 },
    { name: 'mammography: f1 in range, 1,000 trusted rows', table: () => outlierTable('mammography.csv', ''), column: 'f1', value: (b) => inRangeValue(b, 'f1'), target: '0', trustedRows: 1000 },
    { name: 'flights: distance in range, 1,000 trusted rows', table: flights, column: 'distance', value: (b) => inRangeValue(b, 'distance'), target: 'late', trustedRows: 1000 },
  ];
  const rates = [0.01, 0.02, 0.03];
  const seeds = [1, 2, 3];
  console.log('## Backdoor triggers: baseline fitted on a clean half, scan of the other half with a trigger injected');
  console.log(`Poisoned rows get the trigger value in one column and the target label. Scanned in batches of 5,000 rows,`);
  console.log(`decided at the end, rows flagged batch by batch in a second pass (triggerRows), as a scan's routing pass does. Seeds ${seeds.join(', ')}.`);
  console.log('Target: recall >= 0.95 of trigger rows with <= 1% of clean rows flagged.\n');
  console.log('| case | rate | poisoned rows (mean) | recall (mean) | recall (min) | clean rows flagged (mean) | (max) | reasons (first seed) |');
  console.log('|---|---|---|---|---|---|---|---|');
  let all = true;
  const tables = new Map<string, LabelledTable>();
  for (const c of cases) {
    const key = c.table.toString();
    if (!tables.has(key)) tables.set(key, c.table());
    const table = tables.get(key)!;
    for (const rate of rates) {
      const results = seeds.map((seed) => {
        const random = new Random(seed * 104729 + Math.round(rate * 1000));
        const order = Array.from({ length: table.batch.rowCount }, (_, i) => i);
        random.shuffle(order);
        const half = order.length >> 1;
        const clean = rows(table.batch, order.slice(0, half).sort((a, b) => a - b));
        const scan = rows(table.batch, order.slice(half).sort((a, b) => a - b));
        const value = c.value(clean);
        const poisoned = new Set<number>();
        const column = scan.byName.get(c.column)!;
        const label = scan.byName.get(table.label)!;
        for (let r = 0; r < scan.rowCount; r++) {
          if (random.nextFloat() >= rate) continue;
          poisoned.add(r);
          if (column.type === 'string') (column.values as string[])[r] = String(value);
          else (column.values as Float64Array)[r] = Number(value);
          if (column.valid) column.valid[r] = 1;
          if (label.type === 'string') (label.values as string[])[r] = c.target;
          else (label.values as Float64Array)[r] = Number(c.target);
          if (label.valid) label.valid[r] = 1;
        }
        // A small trusted sample: a random part of the clean half.
        const trusted = c.trustedRows === undefined ? clean : rows(table.batch, order.slice(0, Math.min(c.trustedRows, half)).sort((a, b) => a - b));
        const { classes, codes } = encodeLabels(trusted.byName.get(table.label)!);
        const baseline = fitTriggerBaseline(table.features.map((f) => trusted.byName.get(f)!), codes, classes);
        const accumulator = new TriggerAccumulator(baseline, table.label);
        const batches: Batch[] = [];
        for (let start = 0; start < scan.rowCount; start += 5000) {
          const end = Math.min(scan.rowCount, start + 5000);
          const part = rows(scan, Array.from({ length: end - start }, (_, i) => start + i));
          batches.push(makeBatch(start, part.rowCount, [...part.columns]));
          accumulator.add(batches[batches.length - 1]!);
        }
        const triggers = accumulator.decide();
        // Rows are flagged in a second pass over the batches, as a scan's routing pass does.
        const flagged = new Set<number>();
        for (const batch of batches) {
          const found = triggerRows(batch, triggers, baseline, accumulator.labelCodes(batch));
          for (const r of found.rows) flagged.add(batch.rowOffset + r);
        }
        let hits = 0;
        for (const r of flagged) if (poisoned.has(r)) hits++;
        return {
          poisoned: poisoned.size,
          recall: poisoned.size > 0 ? hits / poisoned.size : 1,
          cleanFlagged: (flagged.size - hits) / (scan.rowCount - poisoned.size),
          reasons: triggers.map(triggerReason),
        };
      });
      const recall = mean(results.map((r) => r.recall));
      const cleanMax = Math.max(...results.map((r) => r.cleanFlagged));
      const ok = Math.min(...results.map((r) => r.recall)) >= 0.95 && cleanMax <= 0.01;
      // The target's setting is a baseline on the whole clean half; small trusted samples go beyond it.
      if (c.trustedRows === undefined) all &&= ok;
      console.log(
        `| ${c.name} | ${rate * 100}% | ${Math.round(mean(results.map((r) => r.poisoned)))} | ${fmt(recall)} | ${fmt(Math.min(...results.map((r) => r.recall)))} | ${fmt(mean(results.map((r) => r.cleanFlagged)) * 100, 2)}% | ${fmt(cleanMax * 100, 2)}% | ${results[0]!.reasons.join(', ') || '-'} |`,
      );
    }
  }
  console.log(`\nEvery case fitted on the clean half, at every rate and seed: recall >= 0.95 and <= 1% clean rows flagged: ${all ? 'yes' : 'NO'}`);
  console.log('(The cases with 1,000 trusted rows are beyond the target: reported, not held to it.)\n');
  return all;
}

// ---------------------------------------------------------------- drift

/** The feature columns of `batch` without `label`, with one of them moved by `shift` (in its own units). */
function featureBatch(batch: Batch, label: string, shifted?: { column: string; by: number }): Batch {
  const columns = batch.columns
    .filter((c) => c.name !== label)
    .map((c): Column => (c.name === shifted?.column ? ({ ...c, values: (c.values as Float64Array).map((v) => v + shifted.by) } as Column) : c));
  return makeBatch(0, batch.rowCount, columns);
}

/**
 * Drift on real data: a seeded random 2,000-row baseline and a scan of other rows of the same
 * file, as they are (nothing changed: any finding is a false alarm) and with one column moved by
 * half its standard deviation (a real change, to be found on that column). Each with the limits
 * alone (PSI, JS, L-inf; the rule before the chi-square test) and with the chi-square test beside
 * them (the default).
 */
function driftBench(): null {
  const runs = Number(process.env.DATAWARDEN_DRIFT_RUNS ?? 100);
  console.log(`## Drift: false alarms on unchanged data, and a real shift found, by scan size (${runs} runs each)`);
  console.log('Baseline: 2,000 random rows of the file; scan: other random rows. Shift: one column (drawn per run) moved by 0.5 standard deviation.');
  console.log('Limits alone: PSI 0.1 / JS 0.1 / L-inf 0.1 past their warn limits. With chi-square: also p < 0.01 / columns judged (the default).\n');
  console.log('| file | columns | scan rows | unchanged: scans with a finding, limits alone | with chi-square | shifted: found, limits alone | with chi-square |');
  console.log('|---|---|---|---|---|---|---|');
  const limitsAlone = { alpha: Number.POSITIVE_INFINITY };
  const drifted = (results: readonly { column: string; severity: string | null }[], column?: string) =>
    results.some((d) => (column === undefined || d.column === column) && (d.severity === 'warn' || d.severity === 'fail'));
  let falseAlarms = 0;
  let scans = 0;
  for (const file of ['annthyroid.csv', 'mammography.csv', 'satellite.csv', 'shuttle.csv', 'cover.csv']) {
    const table = outlierTable(file, '');
    for (const size of [150, 500, 2000]) {
      const counts = { alone: 0, chance: 0, shiftAlone: 0, shiftChance: 0 };
      for (let seed = 1; seed <= runs; seed++) {
        const random = new Random(seed);
        const order = random.shuffle(Array.from({ length: table.batch.rowCount }, (_, i) => i));
        const baselineRows = rows(table.batch, order.slice(0, 2000));
        const scanRows = rows(table.batch, order.slice(2000, 2000 + size));
        const baseline = fitDriftBaseline(featureBatch(baselineRows, table.label).columns);
        const judge = (scan: Batch) => {
          const accumulator = new DriftAccumulator(baseline);
          accumulator.add(scan);
          return { alone: accumulator.result(limitsAlone), chance: accumulator.result() };
        };
        const unchanged = judge(featureBatch(scanRows, table.label));
        if (drifted(unchanged.alone)) counts.alone++;
        if (drifted(unchanged.chance)) counts.chance++;
        const column = table.features[random.nextInt(table.features.length)]!;
        const by = 0.5 * standardDeviation(Array.from(baselineRows.byName.get(column)!.values as Float64Array));
        const shifted = judge(featureBatch(scanRows, table.label, { column, by }));
        if (drifted(shifted.alone, column)) counts.shiftAlone++;
        if (drifted(shifted.chance, column)) counts.shiftChance++;
      }
      falseAlarms += counts.chance;
      scans += runs;
      const share = (n: number) => `${fmt((100 * n) / runs, 0)}%`;
      console.log(
        `| ${file.replace('.csv', '')} | ${table.features.length} | ${size} | ${share(counts.alone)} | ${share(counts.chance)} | ${share(counts.shiftAlone)} | ${share(counts.shiftChance)} |`,
      );
    }
  }
  console.log(`\nUnchanged scans with a finding, with the chi-square test: ${falseAlarms} of ${scans} (the test allows 1% a scan). No issue sets a target here.\n`);
  return null;
}

// ---------------------------------------------------------------- throughput

function throughputBench(): boolean {
  console.log('## Check throughput: fit on 50,000 rows of cover.csv, then each check over all 286,048 rows');
  console.log('Batches of 65,536 rows, one thread; rows/s of run() over every batch plus finish().\n');
  const table = outlierTable('cover.csv', '');
  const contract: Contract = {
    name: 'cover',
    label: 'is_outlier',
    gate: { pass: 0.01, warn: 0.05 },
    columns: table.batch.columns.map((c) => ({ name: c.name, type: c.type })),
  };
  // A seeded random sample, so that the baseline represents the whole file (cover.csv is ordered).
  const order = Array.from({ length: table.batch.rowCount }, (_, i) => i);
  new Random(1).shuffle(order);
  const sample = rows(table.batch, order.slice(0, 50_000).sort((a, b) => a - b));
  const fitStart = performance.now();
  const bundle = fitModel(sample, contract, { seed: 1 });
  const fitSeconds = (performance.now() - fitStart) / 1000;
  const modelBytes = Buffer.byteLength(serialiseModel(bundle));
  console.log(`fitModel: ${fitSeconds.toFixed(2)} s for 50,000 rows x 10 features (all four detectors); model file ${(modelBytes / 1e6).toFixed(1)} MB\n`);
  console.log('| check | seconds | rows/s | rows flagged | dataset findings |');
  console.log('|---|---|---|---|---|');
  const input = { path: 'cover.csv', format: 'csv', columns: table.batch.columns.map((c) => ({ name: c.name, type: c.type, sourceType: 'csv' })), declaredRows: table.batch.rowCount };
  for (const check of [outlierCheck, labelFlipCheck, triggerCheck, driftCheck]) {
    const context = { contract, input, seed: 1, model: bundle };
    let flagged = 0;
    const flags = { reason: () => 0, flag: () => void flagged++ };
    const start = performance.now();
    const runner = check.create(context);
    const batchRows = 65_536;
    for (let from = 0; from < table.batch.rowCount; from += batchRows) {
      const to = Math.min(table.batch.rowCount, from + batchRows);
      const columns = table.batch.columns.map((c) => ({ ...c, values: (c.values as Float64Array).subarray(from, to) }) as Column);
      runner.run(makeBatch(from, to - from, columns), flags);
    }
    const end = check.finish?.([runner.state?.()], context) ?? {};
    const seconds = (performance.now() - start) / 1000;
    const late = (end.lateFlags ?? []).reduce((sum, f) => sum + f.rows.length, 0);
    console.log(
      `| ${check.meta.id} | ${seconds.toFixed(2)} | ${Math.round(table.batch.rowCount / seconds).toLocaleString('en-US')} | ${flagged + late} | ${(end.findings ?? []).map((f) => f.code).join(', ') || '-'} |`,
    );
  }
  console.log('');
  return true;
}

function main(): void {
  const wanted = new Set(process.argv.slice(2));
  const run = (name: string) => wanted.size === 0 || wanted.has(name);
  console.log(`# datawarden detector quality\nmachine: ${machineDescription()}\n`);
  const verdicts: string[] = [];
  // A bench returns whether its issue target is met, or null when no issue sets one.
  const timed = (name: string, bench: () => boolean | null) => {
    const start = performance.now();
    const ok = bench();
    verdicts.push(`${name}: ${ok === null ? 'measured' : ok ? 'target met' : 'target NOT met'} (${((performance.now() - start) / 1000).toFixed(1)} s)`);
  };
  if (run('outliers')) timed('outliers', outlierBench);
  if (run('labels')) timed('labels', labelBench);
  if (run('triggers')) timed('triggers', triggerBench);
  if (run('drift')) timed('drift', driftBench);
  if (run('throughput')) timed('throughput', throughputBench);
  console.log(verdicts.join('\n'));
}

main();
