// Isolation-forest throughput (fit + score) against scikit-learn's IsolationForest on the same
// data in the same run: http.csv from the outlier benchmark and a generated 1M x 10 table.
// Run: npx tsx bench/iforest.bench.ts (single-threaded only) or, after tsc,
// node dist/bench/iforest.bench.js (adds the two-thread scorer).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Random } from '../src/core/random.js';
import type { FeatureMatrix } from '../src/detectors/features.js';
import { fitIsolationForest, scoreIsolationForest } from '../src/detectors/isolation-forest.js';
import { scoreIsolationForestParallel, scoringThreadsAvailable } from '../src/detectors/threads.js';
import { readNumericCsv, writeNumericCsv } from './lib/csv.js';
import { machineDescription } from './lib/machine.js';
import { mean, median, rocAuc } from './lib/metrics.js';
import { outlierDataDir, repoRoot } from './lib/paths.js';

const SEEDS = [1, 2, 3];
const PYTHON = process.env.DATAWARDEN_PYTHON ?? '/usr/bin/python3';

interface Timing {
  readonly fit: number;
  readonly score: number;
  readonly auc: number | null;
}

interface Case {
  readonly name: string;
  readonly csv: string;
  readonly matrix: FeatureMatrix;
  readonly truth: Float64Array;
}

function matrixOf(columns: readonly Float64Array[], rows: number): FeatureMatrix {
  const data = new Float64Array(rows * columns.length);
  columns.forEach((c, i) => data.set(c, i * rows));
  return { rows, cols: columns.length, data, names: columns.map((_, i) => `f${i}`) };
}

function loadCase(name: string, csv: string): Case {
  const table = readNumericCsv(csv);
  const label = table.names.indexOf('is_outlier');
  const features = table.columns.filter((_, i) => i !== label);
  return { name, csv, matrix: matrixOf(features, table.rows), truth: table.columns[label]! };
}

/** 1M rows x 10 features: Gaussian clusters with 1% uniformly scattered rows (the outliers). */
function generatedCase(dir: string): Case {
  const rows = 1_000_000;
  const cols = 10;
  const random = new Random(20240601);
  const gaussian = () => {
    const u = 1 - random.nextFloat();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextFloat());
  };
  const centres = Array.from({ length: 3 }, () => Array.from({ length: cols }, () => gaussian() * 4));
  const columns = Array.from({ length: cols }, () => new Float64Array(rows));
  const truth = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const outlier = random.nextFloat() < 0.01;
    truth[r] = outlier ? 1 : 0;
    const centre = centres[random.nextInt(centres.length)]!;
    for (let c = 0; c < cols; c++) columns[c]![r] = outlier ? (random.nextFloat() - 0.5) * 24 : centre[c]! + gaussian();
  }
  const csv = join(dir, 'generated-1m-x10.csv');
  writeNumericCsv(csv, [...columns.map((_, i) => `f${i}`), 'is_outlier'], [...columns, truth]);
  return { name: 'generated 1M x 10', csv, matrix: matrixOf(columns, rows), truth };
}

async function runOurs(c: Case, parallel: boolean): Promise<Timing[]> {
  const timings: Timing[] = [];
  for (const seed of SEEDS) {
    const start = performance.now();
    const forest = fitIsolationForest(c.matrix, { seed });
    const fitted = performance.now();
    const scores = parallel ? await scoreIsolationForestParallel(forest, c.matrix, { threads: 1 }) : scoreIsolationForest(forest, c.matrix);
    const scored = performance.now();
    timings.push({ fit: (fitted - start) / 1000, score: (scored - fitted) / 1000, auc: rocAuc(scores, c.truth) });
  }
  return timings;
}

function runSklearn(c: Case): Timing[] {
  const script = join(repoRoot(), 'bench', 'sklearn_iforest.py');
  const result = spawnSync(PYTHON, [script, c.csv, '--label', 'is_outlier', '--seeds', SEEDS.join(',')], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (result.status !== 0) throw new Error(`${PYTHON} ${script} failed: ${result.stderr || result.error?.message}`);
  return result.stdout
    .trim()
    .split('\n')
    .map((line) => {
      const run = JSON.parse(line) as { fit_s: number; score_s: number; auc: number | null };
      return { fit: run.fit_s, score: run.score_s, auc: run.auc };
    });
}

function summary(rows: number, timings: Timing[]) {
  const total = median(timings.map((t) => t.fit + t.score));
  const aucs = timings.map((t) => t.auc).filter((a): a is number => a !== null);
  return {
    fit: median(timings.map((t) => t.fit)),
    score: median(timings.map((t) => t.score)),
    total,
    rowsPerSecond: rows / total,
    auc: aucs.length > 0 ? mean(aucs) : NaN,
  };
}

function format(seconds: number): string {
  return seconds < 1 ? `${(seconds * 1000).toFixed(0)} ms` : `${seconds.toFixed(2)} s`;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'datawarden-iforest-'));
  const parallel = scoringThreadsAvailable();
  console.log(`# Isolation forest: datawarden vs scikit-learn (100 trees, psi 256, medians of ${SEEDS.length} runs, seeds ${SEEDS.join(',')})`);
  console.log(`machine: ${machineDescription()}`);
  if (!parallel) console.log('two-thread scoring: not available here (worker threads need the compiled .js; run node dist/bench/iforest.bench.js)');
  console.log('');
  console.log('| data | implementation | fit | score | fit+score | rows/s | vs sklearn | AUC |');
  console.log('|---|---|---|---|---|---|---|---|');
  try {
    const cases = [() => loadCase('http.csv (567,498 x 3)', join(outlierDataDir(), 'http.csv')), () => generatedCase(dir)];
    for (const load of cases) {
      const c = load();
      const reference = summary(c.matrix.rows, runSklearn(c));
      const rowsOut: [string, ReturnType<typeof summary>][] = [['datawarden, 1 thread', summary(c.matrix.rows, await runOurs(c, false))]];
      if (parallel) rowsOut.push(['datawarden, 2 threads', summary(c.matrix.rows, await runOurs(c, true))]);
      rowsOut.push(['scikit-learn 1 thread (n_jobs=1)', reference]);
      for (const [label, s] of rowsOut) {
        const ratio = s.rowsPerSecond / reference.rowsPerSecond;
        console.log(
          `| ${c.name} | ${label} | ${format(s.fit)} | ${format(s.score)} | ${format(s.total)} | ${Math.round(s.rowsPerSecond).toLocaleString('en-US')} | ${ratio.toFixed(1)}x | ${s.auc.toFixed(4)} |`,
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
