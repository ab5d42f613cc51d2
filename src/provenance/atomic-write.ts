// Writes a file so that readers see either the old content or the whole new content, never a
// half-written one: write a temporary sibling, flush it to disk, then rename it over the target.
import { randomBytes } from 'node:crypto';
import { open, rename, rm, link, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface AtomicWriteOptions {
  /** File mode for the new file (e.g. 0o600 for a private key). Default 0o644. */
  readonly mode?: number;
  /** Fail with EEXIST instead of replacing an existing file. */
  readonly exclusive?: boolean;
}

function temporarySibling(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

export async function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const mode = options.mode ?? 0o644;
  const temporary = temporarySibling(path);
  const handle = await open(temporary, 'wx', mode);
  try {
    await handle.writeFile(data);
    // The umask may have narrowed the mode; a private key must end up exactly 0600, never wider.
    await handle.chmod(mode);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  try {
    if (options.exclusive) {
      // link() fails when the target exists, so two writers cannot both think they created it.
      await link(temporary, path);
      await unlink(temporary);
    } else {
      await rename(temporary, path);
    }
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
