// Which format a path holds, chosen by its extension.
import { extname } from 'node:path';
import { InputError } from '../core/errors.js';

/** `arrow` is the Arrow IPC file format (.arrow, .feather); `arrows` the IPC stream format. */
export type Format = 'parquet' | 'arrow' | 'arrows' | 'csv' | 'jsonl';
export const FORMATS: readonly Format[] = ['parquet', 'arrow', 'arrows', 'csv', 'jsonl'];

const BY_EXTENSION: Record<string, Format> = {
  '.parquet': 'parquet',
  '.arrow': 'arrow',
  '.feather': 'arrow',
  '.arrows': 'arrows',
  '.csv': 'csv',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
};

export function formatOf(path: string): Format {
  const format = BY_EXTENSION[extname(path).toLowerCase()];
  if (!format) {
    throw new InputError(
      `unsupported file extension '${extname(path) || '(none)'}' (use .parquet, .arrow, .feather, .arrows, .csv, .jsonl or .ndjson)`,
      { subject: path },
    );
  }
  return format;
}

export function parseFormat(name: string): Format {
  if (!(FORMATS as readonly string[]).includes(name)) {
    throw new InputError(`unknown format '${name}' (use ${FORMATS.join(', ')})`, { subject: '--format' });
  }
  return name as Format;
}

/** The extension written for a format. */
export function extensionOf(format: Format): string {
  return format;
}

/** Text formats carry no types; their values are parsed against the contract. */
export function isTextFormat(format: Format): boolean {
  return format === 'csv' || format === 'jsonl';
}
