// One streaming pass over a file computes its sha256 and the sha256 of each fixed-size chunk, so
// a manifest can name which byte range changed instead of only saying that something did.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { InputError } from '../core/errors.js';

export const DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024;

export interface FileDigest {
  readonly sha256: string;
  readonly bytes: number;
  readonly chunkBytes: number;
  /** Chunk i covers bytes [i * chunkBytes, min((i + 1) * chunkBytes, bytes)). An empty file has none. */
  readonly chunks: readonly string[];
}

function unreadable(path: string, error: unknown): InputError {
  return new InputError(`cannot read file (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { subject: path, cause: error });
}

export async function digestFile(path: string, chunkBytes: number = DEFAULT_CHUNK_BYTES): Promise<FileDigest> {
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes <= 0) throw new RangeError(`chunk size must be a positive integer, got ${chunkBytes}`);
  const whole = createHash('sha256');
  const chunks: string[] = [];
  let chunk: Hash | null = null;
  let chunkFill = 0;
  let bytes = 0;
  try {
    for await (const data of createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
      whole.update(data);
      bytes += data.length;
      let offset = 0;
      while (offset < data.length) {
        chunk ??= createHash('sha256');
        const take = Math.min(chunkBytes - chunkFill, data.length - offset);
        chunk.update(data.subarray(offset, offset + take));
        chunkFill += take;
        offset += take;
        if (chunkFill === chunkBytes) {
          chunks.push(chunk.digest('hex'));
          chunk = null;
          chunkFill = 0;
        }
      }
    }
  } catch (error) {
    throw unreadable(path, error);
  }
  if (chunk) chunks.push(chunk.digest('hex'));
  return { sha256: whole.digest('hex'), bytes, chunkBytes, chunks };
}
