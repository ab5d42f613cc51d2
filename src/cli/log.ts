// Structured logs go to stderr as pino JSON lines, so stdout stays free for reports.
import { pino, type Logger } from 'pino';
import { UsageError } from './command.js';

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export function createLogger(level?: string): Logger {
  const chosen = level ?? process.env.LOG_LEVEL ?? 'warn';
  if (!LEVELS.has(chosen)) throw new UsageError(`unknown log level '${chosen}' (use one of ${[...LEVELS].join(', ')})`);
  return pino({ name: 'datawarden', level: chosen }, pino.destination({ fd: 2, sync: true }));
}
