// duplicate: a row whose content repeats an earlier row's, or whose id (or any unique column's
// value) was already seen. State is one 64-bit hash a row in typed arrays (see HashSet64).
// A scan split into row ranges keeps, per range, the first row holding each hash; finish()
// then flags a range's first occurrences that an earlier range already held.
import { defineCheck, type LateFlags } from '../core/check.js';
import { HashSet64 } from '../core/hash-set.js';
import { hashRows } from '../core/row-hash.js';
import { hashKey } from '../core/types.js';

/** First occurrences within a range, in row order. */
interface FirstSeen {
  hi: Uint32Array;
  lo: Uint32Array;
  rows: Float64Array;
  length: number;
}

interface DuplicateState {
  readonly distinctRows: number;
  /** The contract allows repeated content (allowDuplicateRows): only keys are flagged. */
  readonly repeatsAllowed: boolean;
  readonly stateBytes: number;
  /** Present when the runner saw one range of a split scan: content first, then each key column. */
  readonly firstSeen?: readonly FirstSeen[];
}

function newFirstSeen(): FirstSeen {
  return { hi: new Uint32Array(1024), lo: new Uint32Array(1024), rows: new Float64Array(1024), length: 0 };
}

function remember(first: FirstSeen, hi: number, lo: number, row: number): void {
  if (first.length === first.hi.length) {
    const grow = <T extends Uint32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(a.length * 2);
      b.set(a);
      return b;
    };
    first.hi = grow(first.hi, (n) => new Uint32Array(n));
    first.lo = grow(first.lo, (n) => new Uint32Array(n));
    first.rows = grow(first.rows, (n) => new Float64Array(n));
  }
  first.hi[first.length] = hi;
  first.lo[first.length] = lo;
  first.rows[first.length] = row;
  first.length++;
}

export const duplicateCheck = defineCheck({
  meta: {
    id: 'duplicate',
    description: "A row repeats an earlier row's content (every column but the id) where the contract does not allow repeats, or repeats an id or a unique column's value.",
    reasons: {
      duplicate: 'An exact copy of an earlier row, or a repeated id or unique value. The first occurrence stays clean.',
    },
  },
  create({ contract, input, partial }) {
    const expected = input.declaredRows ?? 1024;
    const present = new Set(input.columns.map((c) => c.name));
    const keyColumns = contract.columns
      .filter((c) => present.has(c.name) && (c.name === contract.id || c.unique === true))
      .map((c) => c.name);
    const sets = [new HashSet64(expected), ...keyColumns.map(() => new HashSet64(expected))];
    const firstSeen = partial ? sets.map(newFirstSeen) : undefined;
    // Content is still hashed when repeats are allowed, for the distinct-row count the report gives.
    const repeatsAllowed = contract.allowDuplicateRows === true;
    // Content is every column but the id, as read: text formats compare the text as written.
    const contentColumns = input.columns.map((c) => c.name).filter((name) => name !== contract.id);
    const contentKey = hashKey(contentColumns);
    let hiBuffer = new Uint32Array(0);
    let loBuffer = new Uint32Array(0);
    let added = new Uint8Array(0);
    return {
      // The reader hashes the content on its own threads when it can; else it is hashed here.
      hashColumns: [contentColumns],
      run(batch, flags) {
        const reason = flags.reason('duplicate');
        const rows = batch.rowCount;
        if (hiBuffer.length < rows) {
          hiBuffer = new Uint32Array(rows);
          loBuffer = new Uint32Array(rows);
          added = new Uint8Array(rows);
        }
        const raw = batch.raw ?? batch;
        const read = raw.rowHashes?.get(contentKey);
        if (!read) hashRows(raw.columns.filter((c) => c.name !== contract.id), rows, hiBuffer, loBuffer);
        const { hi, lo } = read ?? { hi: hiBuffer, lo: loBuffer };
        sets[0]!.addAll(hi, lo, rows, added);
        const offset = batch.rowOffset;
        for (let i = 0; i < rows; i++) {
          if (added[i] === 0) {
            if (!repeatsAllowed) flags.flag(i, reason);
          } else if (firstSeen) remember(firstSeen[0]!, hi[i]!, lo[i]!, offset + i);
        }
        // Keys compare as typed values ('007' and '7' are one id), so they are hashed here.
        keyColumns.forEach((name, k) => {
          const column = batch.byName.get(name)!;
          hashRows([column], rows, hiBuffer, loBuffer);
          for (let i = 0; i < rows; i++) {
            if (column.valid !== null && column.valid[i] === 0) continue;
            if (!sets[k + 1]!.add(hiBuffer[i]!, loBuffer[i]!)) flags.flag(i, reason);
            else if (firstSeen) remember(firstSeen[k + 1]!, hiBuffer[i]!, loBuffer[i]!, offset + i);
          }
        });
      },
      state(): DuplicateState {
        return {
          distinctRows: sets[0]!.size,
          repeatsAllowed,
          stateBytes: sets.reduce((sum, set) => sum + set.bytes, 0),
          ...(firstSeen ? { firstSeen } : {}),
        };
      },
    };
  },
  finish(states) {
    const parts = states as readonly DuplicateState[];
    const stateBytes = Math.max(0, ...parts.map((p) => p.stateBytes));
    // Said in the report, so that fewer distinct rows than rows with none flagged reads right.
    const allowed = parts.some((p) => p.repeatsAllowed) ? { repeatsAllowed: true } : {};
    if (parts.length <= 1 || parts.some((p) => !p.firstSeen)) {
      return { summary: { distinctRows: parts.reduce((sum, p) => sum + p.distinctRows, 0), stateBytes, ...allowed } };
    }
    // Ranges in row order: a range's first occurrence that an earlier range holds is a copy.
    const lists = parts[0]!.firstSeen!.length;
    const late = new Set<number>();
    let distinctRows = 0;
    for (let list = 0; list < lists; list++) {
      const seen = new HashSet64(parts.reduce((sum, p) => sum + p.firstSeen![list]!.length, 0));
      for (const part of parts) {
        const first = part.firstSeen![list]!;
        const flagged = list > 0 || !part.repeatsAllowed;
        for (let k = 0; k < first.length; k++) if (!seen.add(first.hi[k]!, first.lo[k]!) && flagged) late.add(first.rows[k]!);
      }
      if (list === 0) distinctRows = seen.size;
    }
    const lateFlags: LateFlags[] = late.size > 0 ? [{ rows: [...late].sort((a, b) => a - b), code: 'duplicate' }] : [];
    return { summary: { distinctRows, stateBytes, ...allowed }, lateFlags };
  },
});
