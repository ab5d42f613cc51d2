// duplicate: a row whose content repeats an earlier row's, or whose id (or any unique column's
// value) was already seen. State is one 64-bit hash a row in typed arrays (see HashSet64).
import { defineCheck } from '../core/check.js';
import { HashSet64 } from '../core/hash-set.js';
import { hashRows } from '../core/row-hash.js';
import type { Batch, Column } from '../core/types.js';

export const duplicateCheck = defineCheck({
  meta: {
    id: 'duplicate',
    description: "A row repeats an earlier row's content (every column but the id), or repeats an id or a unique column's value.",
    reasons: {
      duplicate: 'An exact copy of an earlier row, or a repeated id or unique value. The first occurrence stays clean.',
    },
  },
  create({ contract, input }) {
    const expected = input.declaredRows ?? 1024;
    const present = new Set(input.columns.map((c) => c.name));
    const keyColumns = contract.columns
      .filter((c) => present.has(c.name) && (c.name === contract.id || c.unique === true))
      .map((c) => c.name);
    const contentSeen = new HashSet64(expected);
    const keysSeen = keyColumns.map(() => new HashSet64(expected));
    let hi = new Uint32Array(0);
    let lo = new Uint32Array(0);
    return {
      run(batch, flags) {
        const reason = flags.reason('duplicate');
        if (hi.length < batch.rowCount) {
          hi = new Uint32Array(batch.rowCount);
          lo = new Uint32Array(batch.rowCount);
        }
        // Text formats compare the text as written, not the parsed value.
        const content = (batch.raw ?? batch).columns.filter((c) => c.name !== contract.id);
        hashRows(content, batch.rowCount, hi, lo);
        for (let i = 0; i < batch.rowCount; i++) if (!contentSeen.add(hi[i]!, lo[i]!)) flags.flag(i, reason);
        keyColumns.forEach((name, k) => flagRepeatedKeys(batch, batch.byName.get(name)!, keysSeen[k]!, hi, lo, (i) => flags.flag(i, reason)));
      },
      end() {
        const bytes = contentSeen.bytes + keysSeen.reduce((sum, set) => sum + set.bytes, 0);
        return { summary: { distinctRows: contentSeen.size, stateBytes: bytes } };
      },
    };
  },
});

function flagRepeatedKeys(batch: Batch, column: Column, seen: HashSet64, hi: Uint32Array, lo: Uint32Array, flag: (row: number) => void): void {
  hashRows([column], batch.rowCount, hi, lo);
  const { valid } = column;
  for (let i = 0; i < batch.rowCount; i++) {
    if (valid !== null && valid[i] === 0) continue;
    if (!seen.add(hi[i]!, lo[i]!)) flag(i);
  }
}
