// Every CLI command, in the order `datawarden --help` lists them.
import type { Command } from '../command.js';
import { convertCommand } from './convert.js';
import { inferCommand } from './infer.js';
import { scanCommand } from './scan.js';
import { fitCommand } from './fit.js';
import { keygenCommand } from './keygen.js';
import { manifestCreateCommand, manifestVerifyCommand } from './manifest.js';
import { auditVerifyCommand } from './audit.js';
import { enqueueCommand } from './enqueue.js';
import { statusCommand } from './status.js';
import { workerCommand } from './worker.js';
import { scheduleListCommand, scheduleSyncCommand } from './schedule.js';

export const COMMANDS: readonly Command[] = [
  scanCommand, fitCommand, inferCommand, convertCommand, keygenCommand, manifestCreateCommand, manifestVerifyCommand, auditVerifyCommand,
  workerCommand, enqueueCommand, statusCommand, scheduleSyncCommand, scheduleListCommand,
];
