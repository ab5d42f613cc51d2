// Row findings as flat integer arrays: checks flag (row, reason) pairs into BatchFindings; the
// pipeline folds each batch into a Quarantine, which holds one entry per quarantined row: its
// input row index and the id of its reason set ("range:age;duplicate"), interned once.
import type { RowFlags } from '../core/check.js';

/** Reason codes interned to small integers, with the check that writes each. */
export class ReasonRegistry {
  private readonly ids = new Map<string, number>();
  readonly codes: string[] = [];
  readonly checkOf: number[] = [];
  /** Rows each reason was written on. */
  readonly rowCounts: number[] = [];

  intern(code: string, check: number): number {
    let id = this.ids.get(code);
    if (id === undefined) {
      id = this.codes.length;
      this.ids.set(code, id);
      this.codes.push(code);
      this.checkOf.push(check);
      this.rowCounts.push(0);
    }
    return id;
  }
}

/** The flags of one batch; reset and reused from batch to batch. */
export class BatchFindings implements RowFlags {
  private rows = new Int32Array(1024);
  private reasons = new Int32Array(1024);
  length = 0;
  /** Index of the check now running, set by the pipeline. */
  check = 0;

  constructor(private readonly registry: ReasonRegistry) {}

  reason(code: string): number {
    return this.registry.intern(code, this.check);
  }

  /** Flags of one check, whenever it writes them: a runner may flag after the next one started. */
  forCheck(check: number): RowFlags {
    return {
      reason: (code) => this.registry.intern(code, check),
      flag: (row, reasonId) => this.flag(row, reasonId),
    };
  }

  flag(row: number, reasonId: number): void {
    if (this.length === this.rows.length) {
      const rows = new Int32Array(this.rows.length * 2);
      rows.set(this.rows);
      this.rows = rows;
      const reasons = new Int32Array(this.reasons.length * 2);
      reasons.set(this.reasons);
      this.reasons = reasons;
    }
    this.rows[this.length] = row;
    this.reasons[this.length] = reasonId;
    this.length++;
  }

  rowAt(k: number): number {
    return this.rows[k]!;
  }

  reasonAt(k: number): number {
    return this.reasons[k]!;
  }

  reset(): void {
    this.length = 0;
  }
}

/** Every quarantined row of a scan, in input order. */
export class Quarantine {
  rows = new Float64Array(1024);
  reasonSets = new Uint32Array(1024);
  length = 0;
  /** Reason set texts, indexed by the ids in `reasonSets`. */
  readonly reasonSetTexts: string[] = [];
  private readonly reasonSetIds = new Map<string, number>();

  add(row: number, reasonSet: string): void {
    let id = this.reasonSetIds.get(reasonSet);
    if (id === undefined) {
      id = this.reasonSetTexts.length;
      this.reasonSetIds.set(reasonSet, id);
      this.reasonSetTexts.push(reasonSet);
    }
    if (this.length === this.rows.length) {
      const rows = new Float64Array(this.rows.length * 2);
      rows.set(this.rows);
      this.rows = rows;
      const sets = new Uint32Array(this.reasonSets.length * 2);
      sets.set(this.reasonSets);
      this.reasonSets = sets;
    }
    this.rows[this.length] = row;
    this.reasonSets[this.length] = id;
    this.length++;
  }

  reasonsOf(k: number): string {
    return this.reasonSetTexts[this.reasonSets[k]!]!;
  }
}

/**
 * Folds one batch's flags into the quarantine. Reasons are listed in check order, then by
 * code, so a row's `_reasons` text does not depend on the order flags arrived in.
 * `heldCodes` (dataset-level findings that hold every row back) go on every row.
 */
export function foldBatch(
  findings: BatchFindings,
  registry: ReasonRegistry,
  rowOffset: number,
  rowCount: number,
  heldCodes: readonly string[],
  quarantine: Quarantine,
  rowsFlaggedByCheck: number[],
): void {
  const head = new Int32Array(rowCount).fill(-1);
  const next = new Int32Array(findings.length);
  for (let k = 0; k < findings.length; k++) {
    const row = findings.rowAt(k);
    next[k] = head[row]!;
    head[row] = k;
  }
  const ids: number[] = [];
  const seenChecks = new Set<number>();
  for (let row = 0; row < rowCount; row++) {
    if (head[row] === -1) {
      if (heldCodes.length > 0) quarantine.add(rowOffset + row, heldCodes.join(';'));
      continue;
    }
    ids.length = 0;
    for (let k = head[row]!; k !== -1; k = next[k]!) {
      const id = findings.reasonAt(k);
      if (!ids.includes(id)) ids.push(id);
    }
    ids.sort((a, b) => registry.checkOf[a]! - registry.checkOf[b]! || (registry.codes[a]! < registry.codes[b]! ? -1 : 1));
    seenChecks.clear();
    for (const id of ids) {
      registry.rowCounts[id]!++;
      const check = registry.checkOf[id]!;
      if (!seenChecks.has(check)) {
        seenChecks.add(check);
        rowsFlaggedByCheck[check] = (rowsFlaggedByCheck[check] ?? 0) + 1;
      }
    }
    const codes = ids.map((id) => registry.codes[id]!);
    quarantine.add(rowOffset + row, heldCodes.length > 0 ? [...heldCodes, ...codes].join(';') : codes.join(';'));
  }
}
