// Outputs are written under temporary names in their final directory and renamed only when
// every file is complete, so an interrupted run leaves nothing that looks finished.
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

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

/** Writes one file atomically: temp name, then rename. */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode?: number): Promise<void> {
  const { writeFile } = await import('node:fs/promises');
  const temp = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, data, mode === undefined ? undefined : { mode });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
