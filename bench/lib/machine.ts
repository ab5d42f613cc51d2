// The machine a benchmark ran on, printed with its figures.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

export function machineDescription(): string {
  let cpu = 'unknown CPU';
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) cpu = line.split(':')[1]!.trim();
  } catch {
    // Not Linux: leave the CPU unnamed.
  }
  return `${availableParallelism()} cores (nproc), ${cpu}, Node ${process.version}, ${process.platform}/${process.arch}`;
}
