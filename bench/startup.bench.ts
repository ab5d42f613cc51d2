// Wall time of short CLI runs, where loading code is most of the work: `--help`, a rule-check scan
// of the example CSV, and the README's demo scan (detectors fitted on the trusted file). The
// reference, measured in the same run, is a bare `node -e 0`. Commands take turns, each run a
// fresh process, so a slow moment of the machine falls on all of them alike.
//
//   npm run build && node dist/bench/startup.bench.js [--runs 15] [--cli dist/src/cli/main.js] [--other-cli PATH]
//
// --other-cli runs the same commands with another build's main.js too (a checkout of an earlier
// commit, say), in the same turns, to compare builds on one machine at one moment.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { machineDescription } from './lib/machine.js';
import { repoRoot } from './lib/paths.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '15' },
    cli: { type: 'string', default: join(repoRoot(), 'dist', 'src', 'cli', 'main.js') },
    'other-cli': { type: 'string' },
  },
});

const root = repoRoot();
const out = mkdtempSync(join(tmpdir(), 'datawarden-startup-'));
const credit = (file: string) => join(root, 'datasets', 'credit', file);
const contract = join(root, 'schemas', 'credit.contract.json');

interface Case {
  readonly name: string;
  readonly args: (cli: string) => string[];
}

const reference: Case = { name: 'node -e 0 (reference)', args: () => ['-e', '0'] };
const cases: Case[] = [
  { name: 'datawarden --help', args: (cli) => [cli, '--help'] },
  {
    name: 'scan of the example CSV, schema+range (2,013 rows)',
    args: (cli) => [cli, 'scan', credit('incoming.csv'), '--contract', contract, '--checks', 'schema,range', '--no-audit', '--out', join(out, 'rules')],
  },
  {
    name: 'the demo scan: every check, fitted on the trusted file',
    args: (cli) => [cli, 'scan', credit('incoming.csv'), '--contract', contract, '--baseline', credit('trusted.parquet'), '--no-audit', '--out', join(out, 'demo')],
  },
];

const builds = [{ label: 'this build', cli: args.cli }, ...(args['other-cli'] ? [{ label: 'other build', cli: args['other-cli'] }] : [])];
const runs = Number(args.runs);
const times = new Map<string, number[]>();

function once(argv: string[]): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, argv, { encoding: 'utf8' });
  const ms = performance.now() - started;
  // 1 and 2 are a scan's warn and fail verdicts; 3 is an error.
  if (result.status === null || result.status > 2) throw new Error(`${argv.join(' ')} exited with ${result.status}: ${result.stderr}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function record(key: string, ms: number): void {
  if (!times.has(key)) times.set(key, []);
  times.get(key)!.push(ms);
}

try {
  // One untimed turn: the first run of each command warms the file cache.
  for (const c of cases) for (const b of builds) once(c.args(b.cli));
  for (let run = 0; run < runs; run++) {
    record(reference.name, once(reference.args('')));
    for (const c of cases) for (const b of builds) record(`${c.name}\t${b.label}`, once(c.args(b.cli)));
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}

console.log(`Machine: ${machineDescription()}; ${new Date().toISOString().slice(0, 10)}.`);
console.log(`Wall time of a fresh process, median and fastest of ${runs} runs, commands taking turns.\n`);
console.log('| command | build | median (ms) | fastest (ms) | median over node -e 0 (ms) |');
console.log('|---|---|---:|---:|---:|');
const bare = times.get(reference.name)!;
console.log(`| ${reference.name} | | ${median(bare).toFixed(0)} | ${Math.min(...bare).toFixed(0)} | |`);
for (const c of cases) {
  for (const b of builds) {
    const xs = times.get(`${c.name}\t${b.label}`)!;
    console.log(`| ${c.name} | ${b.label} | ${median(xs).toFixed(0)} | ${Math.min(...xs).toFixed(0)} | ${(median(xs) - median(bare)).toFixed(0)} |`);
  }
}
