// The two tree walks alone (isolation forest and extra trees, tree-walks.ts), one thread, on rows
// of the scan benchmark's table encoded as a scan encodes them, with the scan benchmark's model.
// Run `npm run bench:scan` once first: it generates both into the bench folder.
//
//   npm run build && node dist/bench/tree-walks.bench.js [--rows 262144] [--repeats 15] [--rounds 4] [--other-dist PATH]
//
// --other-dist takes another build's dist folder (a checkout of an earlier commit, built): its
// walks and this build's take turns round by round, in this process, on the same rows, and must
// give the same sums to the bit.
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Batch } from '../src/core/types.js';
import { parseModel } from '../src/detectors/bundle.js';
import { compileTrees } from '../src/detectors/extra-trees.js';
import { encodeFeatures } from '../src/detectors/features.js';
import { compileForest } from '../src/detectors/isolation-forest.js';
import { openSource } from '../src/io/source.js';
import { applyContractTypes } from '../src/contract/coerce.js';
import { loadContract } from '../src/contract/load.js';
import { machineDescription } from './lib/machine.js';
import { median } from './lib/metrics.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '262144' },
    repeats: { type: 'string', default: '15' },
    rounds: { type: 'string', default: '4' },
    'other-dist': { type: 'string' },
  },
});

const WORK = join(tmpdir(), 'datawarden-bench');
const INPUT = join(WORK, 'bench-1000000-42-v2.parquet');
const MODEL = join(WORK, 'bench-1000000-42-v2.model.json');
const CONTRACT = join(WORK, 'bench.contract.json');

type Walk = (model: never, data: Float64Array, stride: number, start: number, end: number, out: Float64Array) => void;
interface Walks {
  readonly label: string;
  readonly forest: Walk;
  readonly trees: Walk;
}

async function walksOf(label: string, dist: string): Promise<Walks> {
  const module = (await import(pathToFileURL(join(dist, 'src', 'detectors', 'tree-walks.js')).href)) as { walkForest: Walk; walkTrees: Walk };
  return { label, forest: module.walkForest, trees: module.walkTrees };
}

/** The first `rows` rows of the scan benchmark's table, read as one batch. */
async function firstRows(rows: number): Promise<Batch> {
  const contract = (await loadContract(CONTRACT)).contract;
  const source = await openSource(INPUT, 'raw');
  try {
    for await (const raw of source.batches({ batchRows: rows })) return applyContractTypes(raw, contract);
    throw new Error(`${INPUT} has no rows`);
  } finally {
    await source.close();
  }
}

async function main(): Promise<void> {
  if (!existsSync(MODEL) || !existsSync(INPUT)) throw new Error(`run npm run bench:scan first: it writes ${INPUT} and ${MODEL}`);
  const bundle = parseModel(readFileSync(MODEL, 'utf8'));
  if (!bundle.outlier || !bundle.labelModel) throw new Error(`${MODEL} lacks the outlier or the label model`);
  const rows = Number(args.rows);
  const batch = await firstRows(rows);
  const raw = encodeFeatures(bundle.encoder, batch, 'raw');
  const standardised = encodeFeatures(bundle.encoder, batch, 'standardised');
  const forest = compileForest(bundle.outlier.forest);
  const trees = compileTrees(bundle.labelModel.trees);
  const builds = [await walksOf('this build', resolve(new URL('..', import.meta.url).pathname))];
  if (args['other-dist']) builds.push(await walksOf('other build', resolve(args['other-dist'])));

  const repeats = Number(args.repeats);
  const times = new Map<string, number[]>();
  const sums = new Map<string, Float64Array>();
  const time = (key: string, walk: () => Float64Array) => {
    const out: number[] = [];
    let last: Float64Array | undefined;
    for (let i = 0; i < repeats; i++) {
      const started = performance.now();
      last = walk();
      out.push(performance.now() - started);
    }
    times.set(key, [...(times.get(key) ?? []), Math.min(...out)]);
    const kind = key.split('\t')[0]!;
    const previous = sums.get(kind);
    if (previous === undefined) sums.set(kind, last!);
    else if (!previous.every((v, i) => Object.is(v, last![i]))) throw new Error(`${key}: the builds' sums differ`);
  };
  for (let round = 0; round < Number(args.rounds); round++) {
    for (const build of builds) {
      time(`forest\t${build.label}`, () => {
        const out = new Float64Array(raw.rows);
        build.forest(forest as never, raw.data, raw.rows, 0, raw.rows, out);
        return out;
      });
      time(`trees\t${build.label}`, () => {
        const out = new Float64Array(standardised.rows * trees.classes);
        build.trees(trees as never, standardised.data, standardised.rows, 0, standardised.rows, out);
        return out;
      });
    }
  }

  console.log(`Machine: ${machineDescription()}; ${new Date().toISOString().slice(0, 10)}.`);
  console.log(`${raw.rows.toLocaleString('en-US')} rows of ${INPUT}, one thread; each figure the fastest of ${repeats} walks, one a round, ${args.rounds} rounds.\n`);
  console.log('| walk | build | each round (ms) | median (ms) | ns a row and tree |');
  console.log('|---|---|---|---:|---:|');
  for (const [key, rounds] of times) {
    const [walk, build] = key.split('\t') as [string, string];
    const perTree = walk === 'forest' ? forest.trees : trees.trees;
    console.log(`| ${walk} | ${build} | ${rounds.map((t) => t.toFixed(0)).join(', ')} | ${median(rounds).toFixed(0)} | ${((median(rounds) * 1e6) / (raw.rows * perTree)).toFixed(2)} |`);
  }
}

await main();
