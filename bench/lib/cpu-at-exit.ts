// Preloaded (`node --import`) into a child process a benchmark times: at exit, writes the
// process's CPU time (every thread: user and system, microseconds) to the file named by
// DATAWARDEN_BENCH_CPU_FILE, which the parent cannot read from its child otherwise.
import { writeFileSync } from 'node:fs';

const file = process.env.DATAWARDEN_BENCH_CPU_FILE;
if (file) process.on('exit', () => writeFileSync(file, JSON.stringify(process.cpuUsage())));
