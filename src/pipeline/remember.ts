// With a replay memory, the rows a scan quarantines for what they contain become known-bad
// fingerprints, so the same rows coming back in a later dataset are flagged `replay`. Rows held
// only as duplicates, as replays, or because the whole dataset was held (a missing column, a
// failed manifest) say nothing bad about their content and are not remembered.
import type { Contract } from '../core/contract.js';
import type { Batch } from '../core/types.js';
import { contractProvenance } from '../provenance/contract-section.js';
import type { ReplayStore } from '../provenance/replay-store.js';
import { fingerprintRows, fingerprintSpec, RowFingerprinter, type RowFingerprint } from '../provenance/row-fingerprint.js';
import type { Quarantine } from './findings.js';

const NOT_ABOUT_CONTENT = new Set(['duplicate', 'replay']);

export class QuarantineMemory {
  private readonly fingerprinter: RowFingerprinter | null;
  private readonly found = new Map<string, RowFingerprint[]>(); // reasons -> rows

  constructor(
    private readonly store: ReplayStore,
    contract: Contract,
    private readonly heldCodes: ReadonlySet<string>,
  ) {
    const spec = fingerprintSpec(contract, contractProvenance(contract).replayIgnore);
    this.fingerprinter = spec.features.length > 0 ? new RowFingerprinter(spec) : null;
  }

  /** Notes the quarantine entries [from, to) of one routed batch (typed as checked). */
  observe(batch: Batch, quarantine: Quarantine, from: number, to: number): void {
    if (this.fingerprinter === null) return;
    const rows: number[] = [];
    const reasons: string[] = [];
    for (let k = from; k < to; k++) {
      const codes = quarantine.reasonsOf(k).split(';').filter((code) => !this.heldCodes.has(code));
      if (!codes.some((code) => !NOT_ABOUT_CONTENT.has(code))) continue;
      rows.push(quarantine.rows[k]! - batch.rowOffset);
      reasons.push(codes.join(';'));
    }
    if (rows.length === 0) return;
    fingerprintRows(this.fingerprinter, batch, rows).forEach((fingerprint, i) => {
      const list = this.found.get(reasons[i]!) ?? [];
      list.push(fingerprint);
      this.found.set(reasons[i]!, list);
    });
  }

  /** Drops what was noted: the rows are being routed again. */
  forget(): void {
    this.found.clear();
  }

  /** Adds what was noted to the store (saved with it); returns how many fingerprints were new. */
  commit(dataset: string): number {
    let added = 0;
    for (const [reason, fingerprints] of this.found) added += this.store.add(fingerprints, { reason, dataset });
    this.found.clear();
    return added;
  }
}
