// Outputs are written under temporary names in their final directory and renamed only when
// every file is complete, so an interrupted run leaves nothing that looks finished.
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, rename, rm, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export class OutputSet {
  private readonly pending = new Map<string, string>(); // final name -> temp path
  private readonly tag = `${process.pid}-${randomBytes(4).toString('hex')}`;

  constructor(readonly dir: string) {}

  async prepare(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  /** A temporary path for the file that will be `name` once committed. */
  tempPath(name: string): string {
    const temp = join(this.dir, `.${name}.${this.tag}.tmp`);
    this.pending.set(name, temp);
    return temp;
  }

  finalPath(name: string): string {
    return join(this.dir, name);
  }

  /**
   * Renames every file into place. `marker` (the report) goes last and any old copy of it is
   * removed first: while it is absent, the directory is not a finished run.
   */
  async commit(marker: string): Promise<void> {
    await rm(this.finalPath(marker), { force: true });
    for (const [name, temp] of this.pending) if (name !== marker) await rename(temp, this.finalPath(name));
    const markerTemp = this.pending.get(marker);
    if (markerTemp) await rename(markerTemp, this.finalPath(marker));
    this.pending.clear();
  }

  async abort(): Promise<void> {
    await Promise.all([...this.pending.values()].map((temp) => rm(temp, { force: true, recursive: true })));
    this.pending.clear();
  }
}

export interface AtomicWriteOptions {
  /** File mode for the new file (e.g. 0o600 for a private key). Default 0o644. */
  readonly mode?: number;
  /** Fail with EEXIST instead of replacing an existing file. */
  readonly exclusive?: boolean;
}

/**
 * Writes one file so that readers see either the old content or the whole new content: a
 * temporary sibling, flushed to disk, then renamed over the target (or linked, when exclusive).
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const mode = options.mode ?? 0o644;
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
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
