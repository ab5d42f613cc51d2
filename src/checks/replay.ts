// Catches poisoned rows coming back: a row whose content fingerprint matches a row a reviewer
// confirmed as bad is flagged `replay`, even when its label was flipped. Also counts rows that
// already appeared in another dataset scanned against the same replay memory.
import { defineCheck, type CheckDefinition } from '../core/check.js';
import type { DatasetFinding } from '../core/types.js';
import { contractProvenance } from '../provenance/contract-section.js';
import { SEEN_KEY_BYTES, type ReplayStore } from '../provenance/replay-store.js';
import { fingerprintHex, fingerprintSpec, keyWords, RowFingerprinter, FINGERPRINT_BYTES } from '../provenance/row-fingerprint.js';

export const REPLAY_REASON = 'replay';
export const DUPLICATE_CODE = 'replay:duplicate';
/** Row numbers kept as examples in the summary and findings. */
const SAMPLE_ROWS = 20;

export interface ReplayCheckOptions {
  readonly store: ReplayStore;
  /** This dataset's id among those scanned against the store; the input's sha256 is a good one. */
  readonly datasetId: string;
  /** Record this dataset's rows as seen in the store at the end (the caller saves it). Default true. */
  readonly recordSeen?: boolean;
}

/** Grows by doubling; holds SEEN_KEY_BYTES per row. */
class KeyBuffer {
  private bytes = new Uint8Array(SEEN_KEY_BYTES * 4096);
  private used = 0;

  push(source: Uint8Array, row: number): void {
    if (this.used + SEEN_KEY_BYTES > this.bytes.length) {
      const bigger = new Uint8Array(this.bytes.length * 2);
      bigger.set(this.bytes.subarray(0, this.used));
      this.bytes = bigger;
    }
    const start = row * FINGERPRINT_BYTES;
    this.bytes.set(source.subarray(start, start + SEEN_KEY_BYTES), this.used);
    this.used += SEEN_KEY_BYTES;
  }

  contents(): Uint8Array {
    return this.bytes.slice(0, this.used);
  }
}

export function replayCheck(options: ReplayCheckOptions): CheckDefinition {
  const { store, datasetId } = options;
  return defineCheck({
    meta: {
      id: 'replay',
      description: 'Rows must not repeat a row confirmed as poisoned (matched without the label, so a flipped label is caught too).',
      reasons: {
        [REPLAY_REASON]: 'the row has the content of a known-bad row in the replay memory (same features; the label may differ)',
        [DUPLICATE_CODE]: 'dataset finding (warn): rows identical, label included, to rows of another dataset scanned against the same memory',
      },
    },
    create(context) {
      const spec = fingerprintSpec(context.contract, contractProvenance(context.contract).replayIgnore);
      if (spec.features.length === 0) {
        return { run() {}, state: (): SkippedState => ({ skipped: true }) };
      }
      const fingerprinter = new RowFingerprinter(spec);
      const seenKeys = new KeyBuffer();
      const duplicates = new Map<string, { rows: number; sampleRows: number[] }>();
      const replayRows: number[] = [];
      let replayed = 0;
      let flippedLabel = 0;
      let fingerprinted = 0;
      let fingerprintMs = 0;
      return {
        run(batch, flags) {
          const started = performance.now();
          const fingerprints = fingerprinter.fingerprintBatch(batch);
          fingerprintMs += performance.now() - started;
          fingerprinted += batch.rowCount;
          const reason = flags.reason(REPLAY_REASON);
          for (let row = 0; row < batch.rowCount; row++) {
            const [hi, lo] = keyWords(fingerprints.features, row);
            if (store.mayBeBad(hi, lo)) {
              const matches = store.knownBad(fingerprintHex(fingerprints.features, row));
              if (matches.length > 0) {
                flags.flag(row, reason);
                replayed++;
                const withLabel = fingerprintHex(fingerprints.withLabel, row);
                if (!matches.some((entry) => entry.withLabel === withLabel)) flippedLabel++;
                if (replayRows.length < SAMPLE_ROWS) replayRows.push(batch.rowOffset + row);
              }
            }
            seenKeys.push(fingerprints.withLabel, row);
            const [seenHi, seenLo] = keyWords(fingerprints.withLabel, row);
            const other = store.seenIn(seenHi, seenLo, datasetId);
            if (other !== undefined) {
              let duplicate = duplicates.get(other);
              if (!duplicate) duplicates.set(other, (duplicate = { rows: 0, sampleRows: [] }));
              duplicate.rows++;
              if (duplicate.sampleRows.length < SAMPLE_ROWS) duplicate.sampleRows.push(batch.rowOffset + row);
            }
          }
        },
        state(): ReplayState {
          return {
            seenKeys: seenKeys.contents(), fingerprinted, fingerprintMs, replayed, flippedLabel, replayRows,
            duplicates: [...duplicates],
          };
        },
      };
    },
    finish(states) {
      const parts = (states as readonly (ReplayState | SkippedState)[]).filter((s): s is ReplayState => 'seenKeys' in s);
      if (parts.length === 0) return { summary: { skipped: 'the contract declares no feature columns to fingerprint' } };
      // Every range's rows are recorded as seen under this dataset, in row order.
      if (options.recordSeen ?? true) for (const part of parts) store.recordSeen(datasetId, part.seenKeys);
      const duplicates = new Map<string, { rows: number; sampleRows: number[] }>();
      for (const part of parts) {
        for (const [other, found] of part.duplicates) {
          const merged = duplicates.get(other) ?? { rows: 0, sampleRows: [] };
          merged.rows += found.rows;
          merged.sampleRows.push(...found.sampleRows.slice(0, SAMPLE_ROWS - merged.sampleRows.length));
          duplicates.set(other, merged);
        }
      }
      const sum = (pick: (part: ReplayState) => number) => parts.reduce((total, part) => total + pick(part), 0);
      const replayed = sum((p) => p.replayed);
      const findings: DatasetFinding[] = [...duplicates].map(([other, duplicate]) => ({
        check: 'replay',
        code: DUPLICATE_CODE,
        severity: 'warn',
        message: `${duplicate.rows} rows are identical (label included) to rows of dataset '${other}'`,
        details: { dataset: other, rows: duplicate.rows, sampleRows: duplicate.sampleRows },
      }));
      return {
        findings,
        summary: {
          fingerprintedRows: sum((p) => p.fingerprinted),
          fingerprintMs: Math.round(sum((p) => p.fingerprintMs)),
          replayedRows: replayed,
          exactReplays: replayed - sum((p) => p.flippedLabel),
          flippedLabelReplays: sum((p) => p.flippedLabel),
          sampleRows: parts.flatMap((p) => p.replayRows).slice(0, SAMPLE_ROWS),
          duplicates: Object.fromEntries([...duplicates].map(([other, duplicate]) => [other, duplicate.rows])),
        },
      };
    },
  });
}

interface ReplayState {
  readonly seenKeys: Uint8Array;
  readonly fingerprinted: number;
  readonly fingerprintMs: number;
  readonly replayed: number;
  readonly flippedLabel: number;
  readonly replayRows: readonly number[];
  readonly duplicates: readonly (readonly [string, { rows: number; sampleRows: number[] }])[];
}

interface SkippedState {
  readonly skipped: true;
}
