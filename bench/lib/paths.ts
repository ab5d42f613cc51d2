// Where the benchmarks find their inputs, whether run from bench/ under tsx or from dist/bench/.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest folder above this file whose package.json is datawarden's. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'datawarden') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the datawarden repository root above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** The outlier benchmark CSVs (ODDS/ADBench); DATAWARDEN_OUTLIER_DATA overrides the location. */
export function outlierDataDir(): string {
  return process.env.DATAWARDEN_OUTLIER_DATA ?? '/work/shared/datasets/outliers';
}

export function nodeModulesFile(...parts: string[]): string {
  return join(repoRoot(), 'node_modules', ...parts);
}
