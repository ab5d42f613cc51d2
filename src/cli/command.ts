// The shape of one CLI command: a name, a help text, its options (node:util parseArgs) and one
// function that does the work over the library and returns the exit code.
import type { Logger } from 'pino';

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  /** One line for --help; `<name>` in it shows the value's placeholder. */
  readonly help: string;
  readonly default?: string | boolean;
}

export interface CommandContext {
  readonly log: Logger;
  /** Where results for the user go (report summaries, --json). */
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly verbose: boolean;
}

export type OptionValues = Record<string, string | boolean | string[] | undefined>;

export interface Command {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** The usage line after `datawarden `, e.g. `scan <dataset> --contract FILE --out DIR`. */
  readonly usage: string;
  /** Paragraphs printed under the options in --help. */
  readonly details?: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** How many positionals the command takes, at least and at most. */
  readonly positionals: readonly [min: number, max: number];
  run(positionals: string[], values: OptionValues, context: CommandContext): Promise<number>;
}

/** Exit codes an ETL step can gate on. */
export const EXIT = { pass: 0, warn: 1, fail: 2, error: 3 } as const;

export function stringOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

export function numberOption(values: OptionValues, name: string): number | undefined {
  const text = stringOption(values, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value)) throw new UsageError(`--${name} must be a number, got '${text}'`);
  return value;
}

/** A mistake in how the command was called; exit 3 with the usage hint. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
