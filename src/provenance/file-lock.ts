// An exclusive lock between processes: a lock file created with O_EXCL ('wx'). Waiters retry with
// jittered backoff; a lock whose holder died (same host, pid gone) or that outlived `staleMs` is
// taken over, so a crashed writer cannot block the log forever.
import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LockOptions {
  /** Give up after waiting this long. Default 30 s. */
  readonly timeoutMs?: number;
  /** A lock older than this is stale whoever holds it. Default 60 s; appends hold it for milliseconds. */
  readonly staleMs?: number;
}

interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly token: string;
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return errorCode(error) === 'EPERM';
  }
}

async function tryCreate(lockPath: string, owner: LockOwner): Promise<boolean> {
  let handle;
  try {
    handle = await open(lockPath, 'wx', 0o644);
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(JSON.stringify(owner));
  } finally {
    await handle.close();
  }
  return true;
}

/** Returns the stale lock's content when the current lock may be taken over, else null. */
async function staleContent(lockPath: string, staleMs: number): Promise<string | null> {
  let content: string;
  let ageMs: number;
  try {
    content = await readFile(lockPath, 'utf8');
    ageMs = Date.now() - (await stat(lockPath)).mtimeMs;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw error;
  }
  if (ageMs > staleMs) return content;
  try {
    const owner = JSON.parse(content) as Partial<LockOwner>;
    if (owner.host === hostname() && typeof owner.pid === 'number' && !processAlive(owner.pid)) return content;
  } catch {
    // Empty or partial: its holder is between create and write; not stale until it ages.
  }
  return null;
}

/**
 * Moves a stale lock aside. rename() is atomic, so of two waiters that both saw the stale lock only
 * one moves it; if what was moved turns out to be a fresh lock taken in between, it is put back.
 */
async function breakStaleLock(lockPath: string, observed: string): Promise<void> {
  const aside = `${lockPath}.stale-${randomBytes(6).toString('hex')}`;
  try {
    await rename(lockPath, aside);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return;
    throw error;
  }
  const moved = await readFile(aside, 'utf8');
  if (moved !== observed) {
    await link(aside, lockPath).catch((error: unknown) => {
      if (errorCode(error) !== 'EEXIST') throw error;
    });
  }
  await unlink(aside);
}

export async function withFileLock<T>(lockPath: string, action: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const staleMs = options.staleMs ?? 60_000;
  const owner: LockOwner = { pid: process.pid, host: hostname(), token: randomBytes(8).toString('hex') };
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; !(await tryCreate(lockPath, owner)); attempt++) {
    const stale = await staleContent(lockPath, staleMs);
    if (stale !== null) {
      await breakStaleLock(lockPath, stale);
      continue;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for lock ${lockPath}`);
    const backoff = Math.min(200, 2 * 2 ** Math.min(attempt, 7));
    await sleep(backoff * (0.5 + Math.random()));
  }
  try {
    return await action();
  } finally {
    // Remove the lock only if it is still ours (it may have been broken as stale meanwhile).
    const content = await readFile(lockPath, 'utf8').catch(() => '');
    if (content === JSON.stringify(owner)) await unlink(lockPath).catch(() => undefined);
  }
}
