#!/usr/bin/env node
// datawarden's command line: parses arguments, sets up logging, runs one command and maps its
// outcome to an exit code (0 pass, 1 warn, 2 fail, 3 error). Commands live in ./commands.
import { parseArgs } from 'node:util';
import { isInputError, isIoError, firstLine } from '../core/errors.js';
import { createLogger } from './log.js';
import { COMMANDS } from './commands/index.js';
import { EXIT, UsageError, type Command, type OptionSpec, type OptionValues } from './command.js';
import { TOOL_VERSION } from '../core/version.js';

const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  help: { type: 'boolean', short: 'h', help: 'show this help' },
  'log-level': { type: 'string', help: 'pino log level on stderr: fatal, error, warn, info, debug, trace, silent (default: LOG_LEVEL or warn)' },
  verbose: { type: 'boolean', short: 'v', help: 'print stack traces with errors' },
};

export function commandHelp(command: Command): string {
  const options = { ...command.options, ...GLOBAL_OPTIONS };
  const lines = [`Usage: datawarden ${command.usage}`, '', command.summary, '', 'Options:'];
  for (const [name, spec] of Object.entries(options)) {
    const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.type === 'string' ? ' <value>' : ''}`;
    lines.push(`  ${flag.padEnd(30)} ${spec.help}`);
  }
  if (command.details) lines.push('', command.details.trim());
  return lines.join('\n') + '\n';
}

function mainHelp(): string {
  const lines = [
    `datawarden ${TOOL_VERSION}: catch poisoned and broken training data before training.`,
    '',
    'Usage: datawarden <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(18)} ${c.summary}`),
    '',
    "Run 'datawarden <command> --help' for a command's options.",
    'Exit codes: 0 pass, 1 warn, 2 fail, 3 error.',
  ];
  return lines.join('\n') + '\n';
}

/** Finds the command, allowing two-word commands such as `manifest create`. */
function findCommand(argv: string[]): { command: Command; rest: string[] } | undefined {
  const two = argv.length >= 2 ? `${argv[0]} ${argv[1]}` : '';
  const byTwo = COMMANDS.find((c) => c.name === two);
  if (byTwo) return { command: byTwo, rest: argv.slice(2) };
  const byOne = COMMANDS.find((c) => c.name === argv[0]);
  return byOne ? { command: byOne, rest: argv.slice(1) } : undefined;
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(mainHelp());
    return argv.length === 0 ? EXIT.error : EXIT.pass;
  }
  if (argv[0] === '--version') {
    process.stdout.write(`${TOOL_VERSION}\n`);
    return EXIT.pass;
  }
  const found = findCommand(argv);
  if (!found) {
    process.stderr.write(`datawarden: unknown command '${argv[0]}'; run 'datawarden --help'\n`);
    return EXIT.error;
  }
  const { command, rest } = found;
  const verbose = rest.includes('--verbose') || rest.includes('-v');
  try {
    const options = { ...command.options, ...GLOBAL_OPTIONS };
    let parsed;
    try {
      parsed = parseArgs({
        args: rest,
        options: Object.fromEntries(
          Object.entries(options).map(([name, spec]) => [
            name,
            { type: spec.type, ...(spec.short ? { short: spec.short } : {}), ...(spec.multiple ? { multiple: true } : {}) },
          ]),
        ),
        allowPositionals: true,
        strict: true,
      });
    } catch (error) {
      throw new UsageError(firstLine(error).replace(/^TypeError \[[A-Z_]+\]: /, ''));
    }
    const { values, positionals } = parsed;
    if (values.help) {
      process.stdout.write(commandHelp(command));
      return EXIT.pass;
    }
    const [min, max] = command.positionals;
    if (positionals.length < min || positionals.length > max) {
      throw new UsageError(`expected ${min === max ? min : `${min} to ${max}`} argument(s), got ${positionals.length}`);
    }
    for (const [name, spec] of Object.entries(command.options)) {
      if (values[name] === undefined && spec.default !== undefined) (values as Record<string, unknown>)[name] = spec.default;
    }
    const log = createLogger(values['log-level'] as string | undefined);
    return await command.run(positionals, values as OptionValues, { log, stdout: process.stdout, stderr: process.stderr, verbose });
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`datawarden ${command.name}: ${error.message}\nUsage: datawarden ${command.usage} (see --help)\n`);
    } else if (isInputError(error) || isIoError(error)) {
      process.stderr.write(`datawarden ${command.name}: ${firstLine(error)}\n`);
    } else {
      process.stderr.write(`datawarden ${command.name}: internal error: ${firstLine(error)}\n`);
    }
    if (verbose && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    return EXIT.error;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`datawarden: internal error: ${firstLine(error)}\n`);
    process.exitCode = EXIT.error;
  },
);
