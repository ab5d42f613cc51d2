// Flags rows whose source (the contract's `source` column) is not in the contract's
// provenance.allowedSources. A null source is not an allowed source: such a row cannot be traced.
import { defineCheck } from '../core/check.js';
import type { DatasetFinding } from '../core/types.js';
import { contractProvenance } from '../provenance/contract-section.js';
import { cellKey, NULL_KEY } from '../provenance/source-stats.js';

export const SOURCE_REASON = 'provenance:source';
/** Unknown sources listed in the summary, most rows first. */
const MAX_REPORTED_SOURCES = 20;

export const sourceCheck = defineCheck({
  meta: {
    id: 'source',
    description: "Rows must come from a source the contract allows (provenance.allowedSources, read from the contract's source column).",
    reasons: {
      [SOURCE_REASON]: "the row's source is null or not in provenance.allowedSources",
    },
  },
  begin({ contract, input }): DatasetFinding[] {
    const columnName = contract.source;
    if (columnName === undefined || contractProvenance(contract).allowedSources === null) return [];
    if (input.columns.some((column) => column.name === columnName)) return [];
    return [
      {
        check: 'source',
        code: SOURCE_REASON,
        severity: 'fail',
        message: `source column '${columnName}' is not in the input, so no row's source can be checked against provenance.allowedSources`,
      },
    ];
  },
  create(context) {
    const columnName = context.contract.source;
    const allowed = contractProvenance(context.contract).allowedSources;
    if (columnName === undefined || allowed === null) return { run() {}, state: (): SourceState => ({}) };
    const allowedSet = new Set(allowed);
    const rejected = new Map<string, number>();
    return {
      run(batch, flags) {
        const column = batch.byName.get(columnName);
        if (!column) return;
        const reason = flags.reason(SOURCE_REASON);
        // Sources repeat: decide each distinct value once.
        const verdicts = new Map<string, boolean>();
        for (let row = 0; row < batch.rowCount; row++) {
          const source = cellKey(column, row);
          let ok = verdicts.get(source);
          if (ok === undefined) {
            ok = source !== NULL_KEY && allowedSet.has(source);
            verdicts.set(source, ok);
          }
          if (!ok) {
            flags.flag(row, reason);
            rejected.set(source, (rejected.get(source) ?? 0) + 1);
          }
        }
      },
      state(): SourceState {
        return { rejected: [...rejected.entries()] };
      },
    };
  },
  finish(states, context) {
    const columnName = context.contract.source;
    const allowed = contractProvenance(context.contract).allowedSources;
    if (columnName === undefined || allowed === null) return {};
    const rejected = new Map<string, number>();
    for (const state of states as readonly SourceState[]) {
      for (const [source, rows] of state.rejected ?? []) rejected.set(source, (rejected.get(source) ?? 0) + rows);
    }
    const sources = [...rejected.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    return {
      summary: {
        column: columnName,
        allowedSources: allowed,
        rejectedRows: sources.reduce((sum, [, rows]) => sum + rows, 0),
        rejectedSources: Object.fromEntries(sources.slice(0, MAX_REPORTED_SOURCES)),
        rejectedSourcesNotListed: Math.max(0, sources.length - MAX_REPORTED_SOURCES),
      },
    };
  },
});

interface SourceState {
  readonly rejected?: readonly (readonly [string, number])[];
}
