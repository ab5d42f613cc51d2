// Every CLI command, in the order `datawarden --help` lists them.
import type { Command } from '../command.js';
import { convertCommand } from './convert.js';
import { inferCommand } from './infer.js';
import { scanCommand } from './scan.js';

export const COMMANDS: readonly Command[] = [scanCommand, inferCommand, convertCommand];
