// Replay memory: fingerprints of rows confirmed as poisoned, and compact keys of every row of
// each dataset scanned against the store. A scan asks it whether a row is a known-bad replay
// (matched on the features fingerprint, so a flipped label does not hide it) and whether the same
// row was already seen in another dataset. Lookups are synchronous, because checks run
// synchronously per batch; an implementation over Redis would load the known-bad set at open and
// keep the seen keys in a local table the same way.
import { readFile } from 'node:fs/promises';
import { InputError } from '../core/errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { withFileLock } from './file-lock.js';
import { FingerprintTable } from './fingerprint-table.js';
import type { RowFingerprint } from './row-fingerprint.js';

export const REPLAY_FORMAT = 'datawarden-replay/1';
/** Bytes kept per seen row: the first 8 bytes of its with-label fingerprint. */
export const SEEN_KEY_BYTES = 8;

export interface KnownBadMeta {
  /** Why the row is bad, e.g. the quarantine reason the reviewer confirmed. */
  readonly reason: string;
  /** The dataset the row was found in. */
  readonly dataset?: string;
  readonly confirmedBy?: string;
  readonly note?: string;
}

export interface KnownBadEntry extends KnownBadMeta {
  readonly features: string;
  readonly withLabel: string;
  readonly addedAt: string;
}

export interface ReplayStore {
  /** Is this hex fingerprint (features or with-label) that of a known-bad row? */
  has(fingerprint: string): boolean;
  /** Known-bad rows with this features fingerprint (hex). */
  knownBad(features: string): readonly KnownBadEntry[];
  /** Records confirmed-bad rows; returns how many were new. */
  add(fingerprints: readonly RowFingerprint[], meta: KnownBadMeta): number;
  /** Fast probe on the first 8 bytes of a features fingerprint; confirm a hit with knownBad(). */
  mayBeBad(hi: number, lo: number): boolean;
  /** A dataset other than `exceptDataset` that holds a row with this seen key, if any (the earliest recorded). */
  seenIn(hi: number, lo: number, exceptDataset?: string): string | undefined;
  /** Replaces the seen keys of `dataset` (SEEN_KEY_BYTES each, big-endian words). */
  recordSeen(dataset: string, keys: Uint8Array): void;
  /** Writes what changed since open. */
  save(): Promise<void>;
}

export interface SeenDataset {
  readonly dataset: string;
  readonly keys: Uint8Array;
  readonly recordedAt: string;
}

/** A store's records as read from where it is kept. */
export interface StoreState {
  readonly entries: KnownBadEntry[];
  readonly seen: SeenDataset[];
}

const HEX32 = /^[0-9a-f]{32}$/;

function wordsOfHex(hex: string): [number, number] {
  return [Number.parseInt(hex.slice(0, 8), 16), Number.parseInt(hex.slice(8, 16), 16)];
}

/** The store's state in memory; FileReplayStore adds loading and saving. */
export class MemoryReplayStore implements ReplayStore {
  protected entries: KnownBadEntry[] = [];
  private byFeatures = new Map<string, KnownBadEntry[]>();
  private byWithLabel = new Set<string>();
  private badPrefixes = new FingerprintTable(64);
  protected seen = new Map<string, SeenDataset>();
  /** Datasets recorded since open, which win over what is on disk when saving. */
  protected recorded = new Set<string>();
  protected seenTable: { exceptDataset: string | undefined; table: FingerprintTable; datasets: string[] } | null = null;

  get knownBadCount(): number {
    return this.entries.length;
  }

  get seenDatasets(): readonly string[] {
    return [...this.seen.keys()];
  }

  protected insertEntry(entry: KnownBadEntry): boolean {
    if (this.byWithLabel.has(entry.withLabel)) return false;
    this.entries.push(entry);
    this.byWithLabel.add(entry.withLabel);
    const list = this.byFeatures.get(entry.features);
    if (list) list.push(entry);
    else this.byFeatures.set(entry.features, [entry]);
    const [hi, lo] = wordsOfHex(entry.features);
    this.badPrefixes.setIfAbsent(hi, lo, 1);
    return true;
  }

  has(fingerprint: string): boolean {
    return this.byFeatures.has(fingerprint) || this.byWithLabel.has(fingerprint);
  }

  knownBad(features: string): readonly KnownBadEntry[] {
    return this.byFeatures.get(features) ?? [];
  }

  add(fingerprints: readonly RowFingerprint[], meta: KnownBadMeta): number {
    if (!meta.reason) throw new TypeError('a known-bad row needs a reason');
    const addedAt = new Date().toISOString();
    let added = 0;
    for (const fingerprint of fingerprints) {
      if (!HEX32.test(fingerprint.features) || !HEX32.test(fingerprint.withLabel)) throw new TypeError('fingerprints are 32 lowercase hex characters');
      if (this.insertEntry({ ...meta, features: fingerprint.features, withLabel: fingerprint.withLabel, addedAt })) added++;
    }
    return added;
  }

  mayBeBad(hi: number, lo: number): boolean {
    return this.badPrefixes.size > 0 && this.badPrefixes.get(hi, lo) !== 0;
  }

  seenIn(hi: number, lo: number, exceptDataset?: string): string | undefined {
    if (this.seen.size === 0) return undefined;
    if (!this.seenTable || this.seenTable.exceptDataset !== exceptDataset) this.seenTable = this.buildSeenTable(exceptDataset);
    const index = this.seenTable.table.get(hi, lo);
    return index === 0 ? undefined : this.seenTable.datasets[index - 1];
  }

  private buildSeenTable(exceptDataset: string | undefined): NonNullable<MemoryReplayStore['seenTable']> {
    const others = [...this.seen.values()].filter((seen) => seen.dataset !== exceptDataset);
    const table = new FingerprintTable(others.reduce((sum, seen) => sum + seen.keys.length / SEEN_KEY_BYTES, 0));
    others.forEach((seen, index) => {
      const view = new DataView(seen.keys.buffer, seen.keys.byteOffset, seen.keys.byteLength);
      for (let offset = 0; offset < seen.keys.length; offset += SEEN_KEY_BYTES) {
        table.setIfAbsent(view.getUint32(offset), view.getUint32(offset + 4), index + 1);
      }
    });
    return { exceptDataset, table, datasets: others.map((seen) => seen.dataset) };
  }

  recordSeen(dataset: string, keys: Uint8Array): void {
    if (keys.length % SEEN_KEY_BYTES !== 0) throw new RangeError(`seen keys are ${SEEN_KEY_BYTES} bytes each`);
    this.seen.set(dataset, { dataset, keys, recordedAt: new Date().toISOString() });
    this.recorded.add(dataset);
    this.seenTable = null;
  }

  /** Adds stored records: known-bad rows are the union, seen datasets recorded here win. */
  protected merge(state: StoreState): void {
    for (const entry of state.entries) this.insertEntry(entry);
    for (const seen of state.seen) if (!this.recorded.has(seen.dataset)) this.seen.set(seen.dataset, seen);
    this.seenTable = null;
  }

  async save(): Promise<void> {}
}

// ---- the file format: JSON Lines ---------------------------------------------------------------
// line 1:  {"format":"datawarden-replay/1"}
// bad:     {"kind":"bad","features":"<32 hex>","withLabel":"<32 hex>","reason":"…","addedAt":"…",…}
// seen:    {"kind":"seen","dataset":"<id>","rows":N,"recordedAt":"…","keys":"<base64 of N×8 bytes>"}

function storeError(path: string, line: number, problem: string): InputError {
  return new InputError(`line ${line}: ${problem}`, { subject: path });
}

function parseJson(text: string, fail: (problem: string) => never): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return fail('not JSON');
  }
}

/** One stored record's text (a file line, a Redis hash value), checked and added to `state`. */
export function addRecordText(state: StoreState, text: string, fail: (problem: string) => never): void {
  const record = parseRecord(parseJson(text, fail), fail);
  if ('entry' in record) state.entries.push(record.entry);
  else state.seen.push(record.seen);
}

/** One stored record checked and turned into an entry or a seen dataset. */
function parseRecord(value: Record<string, unknown>, fail: (problem: string) => never): { entry: KnownBadEntry } | { seen: SeenDataset } {
  if (value.kind === 'bad') {
    if (typeof value.features !== 'string' || !HEX32.test(value.features) || typeof value.withLabel !== 'string' || !HEX32.test(value.withLabel)) {
      fail('features and withLabel must be 32 lowercase hex characters');
    }
    if (typeof value.reason !== 'string' || value.reason === '') fail('reason must be a non-empty string');
    const { kind: _kind, ...entry } = value;
    return { entry: entry as unknown as KnownBadEntry };
  }
  if (value.kind === 'seen') {
    if (typeof value.dataset !== 'string' || typeof value.keys !== 'string' || !Number.isSafeInteger(value.rows)) {
      fail('seen records need dataset, rows and keys');
    }
    const keys = new Uint8Array(Buffer.from(value.keys as string, 'base64'));
    if (keys.length !== (value.rows as number) * SEEN_KEY_BYTES) fail(`keys hold ${keys.length} bytes, rows says ${value.rows}`);
    return { seen: { dataset: value.dataset as string, keys, recordedAt: String(value.recordedAt ?? '') } };
  }
  return fail(`unknown kind ${JSON.stringify(value.kind)}`);
}

/** A record as stored: the entry or seen dataset with its kind. */
export function formatRecord(record: { entry: KnownBadEntry } | { seen: SeenDataset }): string {
  if ('entry' in record) return JSON.stringify({ kind: 'bad', ...record.entry });
  const { dataset, keys, recordedAt } = record.seen;
  return JSON.stringify({
    kind: 'seen',
    dataset,
    rows: keys.length / SEEN_KEY_BYTES,
    recordedAt,
    keys: Buffer.from(keys.buffer, keys.byteOffset, keys.byteLength).toString('base64'),
  });
}

function parseStore(path: string, text: string): StoreState {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const state: StoreState = { entries: [], seen: [] };
  lines.forEach((line, index) => {
    const fail = (problem: string): never => {
      throw storeError(path, index + 1, problem);
    };
    if (index === 0) {
      if (parseJson(line, fail).format !== REPLAY_FORMAT) fail(`expected {"format":"${REPLAY_FORMAT}"}`);
    } else {
      addRecordText(state, line, fail);
    }
  });
  return state;
}

function formatStore(entries: readonly KnownBadEntry[], seen: Iterable<SeenDataset>): string {
  const lines = [JSON.stringify({ format: REPLAY_FORMAT })];
  for (const entry of entries) lines.push(formatRecord({ entry }));
  for (const dataset of seen) lines.push(formatRecord({ seen: dataset }));
  return `${lines.join('\n')}\n`;
}

async function readStoreText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new InputError(`cannot read replay memory (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { subject: path, cause: error });
  }
}

/** The replay memory in one JSON Lines file (`--memory FILE`); an absent file is an empty store. */
export class FileReplayStore extends MemoryReplayStore {
  readonly path: string;

  private constructor(path: string) {
    super();
    this.path = path;
  }

  static async open(path: string): Promise<FileReplayStore> {
    const store = new FileReplayStore(path);
    const text = await readStoreText(path);
    if (text !== null) store.merge(parseStore(path, text));
    return store;
  }

  /**
   * Merges with the file as it is now (another scan may have saved meanwhile) under a lock, and
   * replaces the file atomically: known-bad rows are the union, seen datasets recorded here win.
   */
  override async save(): Promise<void> {
    await withFileLock(`${this.path}.lock`, async () => {
      const text = await readStoreText(this.path);
      if (text !== null) this.merge(parseStore(this.path, text));
      await writeFileAtomic(this.path, formatStore(this.entries, this.seen.values()));
    });
  }
}
