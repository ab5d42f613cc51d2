// Wall and CPU time of fitting the detectors, where the label model's fit is most of the work:
// `datawarden fit` on a wide one-hot table (vega-datasets' birdstrikes), on a generated wider one,
// and on a narrow one (cover.csv), and a scan of birdstrikes with no baseline (it fits on itself).
// Each run is a fresh process; the builds and cases take turns, so a slow moment of the machine
// falls on all of them alike.
//
//   npm run build && node dist/bench/fit.bench.js [--runs 3] [--cli dist/src/cli/main.js] [--other-cli PATH]
//
// --other-cli runs the same commands with another build's main.js too (a checkout of an earlier
// commit, say), to compare builds on one machine at one moment; the two builds' model files are
// compared, so a change meant to leave the models as they were is checked to the byte.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Random } from '../src/core/random.js';
import { machineDescription } from './lib/machine.js';
import { median } from './lib/metrics.js';
import { nodeModulesFile, outlierDataDir, repoRoot } from './lib/paths.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    cli: { type: 'string', default: join(repoRoot(), 'dist', 'src', 'cli', 'main.js') },
    'other-cli': { type: 'string' },
  },
});

const work = mkdtempSync(join(tmpdir(), 'datawarden-fit-'));
const cpuFile = join(work, 'cpu.json');
const preload = pathToFileURL(join(repoRoot(), 'dist', 'bench', 'lib', 'cpu-at-exit.js')).href;

/** A seeded random `keep` of a CSV's rows (one record a line, as birdstrikes.csv is), in file order. */
function sampleCsv(source: string, keep: number, seed: number, target: string): void {
  const [header, ...lines] = readFileSync(source, 'utf8').trimEnd().split('\n');
  const order = new Random(seed).shuffle(lines.map((_, i) => i)).slice(0, keep).sort((a, b) => a - b);
  writeFileSync(target, [header, ...order.map((i) => lines[i])].join('\n') + '\n');
}

/**
 * A wide table of categories: 8 columns of 30 values each and 5 normal numbers; the label (4
 * classes) follows the first category and the first number, with 10% of labels drawn at random.
 */
function generateWide(rows: number, seed: number, target: string): void {
  const random = new Random(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random.nextFloat())) * Math.cos(2 * Math.PI * random.nextFloat());
  const header = [...Array.from({ length: 8 }, (_, i) => `c${i}`), ...Array.from({ length: 5 }, (_, i) => `n${i}`), 'label'];
  const lines = [header.join(',')];
  for (let r = 0; r < rows; r++) {
    const categories = Array.from({ length: 8 }, () => random.nextInt(30));
    const numbers = Array.from({ length: 5 }, normal);
    const signal = (categories[0]! % 4) + (numbers[0]! > 1 ? 1 : 0);
    const label = random.nextFloat() < 0.1 ? random.nextInt(4) : signal % 4;
    lines.push([...categories.map((c) => `v${c}`), ...numbers.map((x) => x.toFixed(4)), `k${label}`].join(','));
  }
  writeFileSync(target, lines.join('\n') + '\n');
}

function run(cli: string, argv: string[]): { ms: number; cpuMs: number } {
  rmSync(cpuFile, { force: true });
  const started = performance.now();
  const result = spawnSync(process.execPath, ['--import', preload, cli, ...argv], { encoding: 'utf8', env: { ...process.env, DATAWARDEN_BENCH_CPU_FILE: cpuFile } });
  const ms = performance.now() - started;
  // 1 and 2 are a scan's warn and fail verdicts; 3 is an error.
  if (result.status === null || result.status > 2) throw new Error(`${argv.join(' ')} exited with ${result.status}: ${result.stderr}`);
  const cpu = JSON.parse(readFileSync(cpuFile, 'utf8')) as { user: number; system: number };
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}

interface Case {
  readonly name: string;
  /** The command's arguments; `out` is a path of the build's own. */
  readonly argv: (out: string) => string[];
  /** A fit writes a model: compared between builds. */
  readonly model: boolean;
}

const birdstrikes = nodeModulesFile('vega-datasets', 'data', 'birdstrikes.csv');
const birdstrikes6000 = join(work, 'birdstrikes-6000.csv');
const wide = join(work, 'wide-40000.csv');
const cover = join(outlierDataDir(), 'cover.csv');
const contractOf = (name: string) => join(work, `${name}.contract.json`);

sampleCsv(birdstrikes, 6000, 7, birdstrikes6000);
generateWide(40_000, 11, wide);
for (const [name, file, label] of [['birdstrikes', birdstrikes6000, 'Effect Amount of damage'], ['wide', wide, 'label'], ['cover', cover, 'is_outlier']] as const) {
  run(args.cli, ['infer', file, '--label', label, '--out', contractOf(name)]);
}

const cases: Case[] = [
  { name: 'fit, birdstrikes: a seeded 6,000 of its rows, 12 feature columns (172 encoded features), 6 classes', argv: (out) => ['fit', birdstrikes6000, '--contract', contractOf('birdstrikes'), '--model', out], model: true },
  { name: 'fit, generated: 40,000 rows (20,000 fitted by the label model), 8 categories of 30 values and 5 numbers, 4 classes', argv: (out) => ['fit', wide, '--contract', contractOf('wide'), '--model', out], model: true },
  { name: 'fit, cover.csv: 286,048 rows (100,000 sampled), 10 numbers, 2 classes', argv: (out) => ['fit', cover, '--contract', contractOf('cover'), '--model', out], model: true },
  { name: 'scan of all 10,000 birdstrikes rows, no baseline (the detectors fitted on the scan)', argv: (out) => ['scan', birdstrikes, '--contract', contractOf('birdstrikes'), '--no-audit', '--out', out], model: false },
];

const builds = [{ label: 'this build', cli: args.cli }, ...(args['other-cli'] ? [{ label: 'other build', cli: args['other-cli'] }] : [])];
const runs = Number(args.runs);
const measured = new Map<string, { ms: number[]; cpuMs: number[] }>();
const sameModel = new Map<string, boolean>();

try {
  for (let turn = 0; turn < runs; turn++) {
    for (const [c, spec] of cases.entries()) {
      for (const [b, build] of builds.entries()) {
        const out = join(work, `case${c}-build${b}${spec.model ? '.model.json' : ''}`);
        const { ms, cpuMs } = run(build.cli, spec.argv(out));
        const key = `${c}\t${b}`;
        if (!measured.has(key)) measured.set(key, { ms: [], cpuMs: [] });
        measured.get(key)!.ms.push(ms);
        measured.get(key)!.cpuMs.push(cpuMs);
      }
      if (spec.model && builds.length === 2) {
        // The models without their creation time: the rest is what the seed and data decide.
        const model = (b: number) => JSON.stringify({ ...JSON.parse(readFileSync(join(work, `case${c}-build${b}.model.json`), 'utf8')), createdAt: null });
        sameModel.set(String(c), model(0) === model(1));
      }
    }
  }

  console.log(`Machine: ${machineDescription()}; ${new Date().toISOString().slice(0, 10)}.`);
  console.log(`Medians of ${runs} runs, each in a fresh process, the cases and builds taking turns.\n`);
  const other = builds.length === 2;
  console.log(`| command | build | wall (s) | CPU (s, all threads) |${other ? ' vs other build | same model |' : ''}`);
  console.log(`|---|---|---:|---:|${other ? '---:|---|' : ''}`);
  for (const [c, spec] of cases.entries()) {
    for (const [b, build] of builds.entries()) {
      const m = measured.get(`${c}\t${b}`)!;
      const wall = median(m.ms) / 1000;
      const ratio = other ? ` ${(median(measured.get(`${c}\t1`)!.ms) / median(m.ms)).toFixed(2)}x |` : '';
      const same = other ? ` ${spec.model ? (sameModel.get(String(c)) ? 'yes' : 'NO') : '-'} |` : '';
      console.log(`| ${spec.name} | ${build.label} | ${wall.toFixed(2)} | ${(median(m.cpuMs) / 1000).toFixed(2)} |${b === 0 ? ratio + same : other ? ' 1.00x | |' : ''}`);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
