import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Worker } from 'node:worker_threads';

/** sha256 and size of a file, streamed. */
export async function hashFile(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

// The same, in a worker thread, so a scan can hash its input on the other core while it reads.
// One buffer, reused: a stream's fresh buffer per chunk would leave the whole file's worth of
// garbage for the worker's collector, and a long scan's memory would grow with its input.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { closeSync, openSync, readSync } = require('node:fs');
try {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(1 << 20);
  const fd = openSync(workerData, 'r');
  let bytes = 0;
  try {
    for (let read; (read = readSync(fd, buffer, 0, buffer.length, null)) > 0; bytes += read) hash.update(buffer.subarray(0, read));
  } finally {
    closeSync(fd);
  }
  parentPort.postMessage({ sha256: hash.digest('hex'), bytes });
} catch (error) {
  parentPort.postMessage({ error: error.message });
}
`;

export function hashFileInBackground(path: string): Promise<{ sha256: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: path });
    worker.once('message', (message: { sha256?: string; bytes?: number; error?: string }) => {
      void worker.terminate();
      if (message.error !== undefined) reject(new Error(message.error));
      else resolve({ sha256: message.sha256!, bytes: message.bytes! });
    });
    worker.once('error', reject);
  });
}
