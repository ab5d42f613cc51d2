// scan: stream a dataset through its contract's checks and write the clean set, the quarantine
// set and the report, in one pass. Each batch is read, given the contract's types, checked, its
// flags folded into a compact quarantine list, and its rows routed to the two output files.
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CheckContext, CheckDefinition, CheckRunner } from '../core/check.js';
import type { DatasetFinding } from '../core/types.js';
import { TOOL_VERSION } from '../core/version.js';
import { selectChecks } from '../checks/index.js';
import { replayCheck } from '../checks/replay.js';
import { applyContractTypes } from '../contract/coerce.js';
import type { LoadedContract } from '../contract/load.js';
import { OutputSet } from '../io/atomic.js';
import { countRows } from '../io/count.js';
import { hashFile } from '../io/file-hash.js';
import { extensionOf, type Format } from '../io/formats.js';
import { openSource } from '../io/source.js';
import { appendAuditRecord } from '../provenance/audit-log.js';
import { provenanceFindings } from '../provenance/findings.js';
import { FileReplayStore } from '../provenance/replay-store.js';
import { SourceStats, type RowHit } from '../provenance/source-stats.js';
import { BatchFindings, foldBatch, Quarantine, ReasonRegistry } from './findings.js';
import { RowRouter } from './outputs.js';
import { decideVerdict, EXIT_CODES, reportMarkdown, type CheckReport, type Report } from './report.js';

export interface ScanOptions {
  readonly input: string;
  readonly contract: LoadedContract;
  readonly outDir: string;
  /** Output format; defaults to the input's. */
  readonly format?: Format;
  /** Check ids to run; all when absent. */
  readonly checks?: readonly string[];
  readonly seed?: number;
  readonly batchRows?: number;
  /** The fitted model bundle, for detectors. */
  readonly model?: unknown;
  /** A signed manifest to verify before any row is released. */
  readonly manifest?: string;
  /** Replay memory: a file of fingerprints of known-bad rows (and of rows seen before). */
  readonly memory?: string;
  /** Append a record of this scan to this audit log. */
  readonly auditLog?: string;
  /** Called after each batch with rows done and the total when known. */
  readonly onProgress?: (rowsDone: number, totalRows: number | null) => void;
}

export interface ScanResult {
  readonly report: Report;
  readonly reportPath: string;
}

export const DEFAULT_SEED = 42;

export async function scan(options: ScanOptions): Promise<ScanResult> {
  const started = performance.now();
  const seed = options.seed ?? DEFAULT_SEED;
  const { contract } = options.contract;
  const definitions: CheckDefinition[] = selectChecks(options.checks);
  const source = await openSource(options.input, 'raw');
  const outFormat = options.format ?? source.format;
  const outputs = new OutputSet(options.outDir);
  const ext = extensionOf(outFormat);
  const names = { clean: `clean.${ext}`, quarantine: `quarantine.${ext}`, reportMarkdown: 'report.md', report: 'report.json' };
  let router: RowRouter | undefined;
  try {
    const { sha256, bytes } = await hashFile(options.input);
    const hashed = performance.now();
    // Provenance is settled before any row is read: a failure holds every row back.
    const findings: DatasetFinding[] = await provenanceFindings({
      provenance: contract.provenance,
      contractDir: dirname(options.contract.path),
      datasetPath: options.input,
      manifestPath: options.manifest,
      rowCount: source.shape.declaredRows ?? countRows,
    });
    const memory = options.memory ? await FileReplayStore.open(options.memory) : undefined;
    if (memory) definitions.push(replayCheck({ store: memory, datasetId: sha256 }));

    const context: CheckContext = { contract, input: source.shape, seed, model: options.model };
    const runners: CheckRunner[] = definitions.map((d) => d.create(context));
    findings.push(...runners.flatMap((r) => r.begin?.() ?? []));
    const heldCodes = findings.filter((f) => f.holdAllRows).map((f) => f.code);

    await outputs.prepare();
    router = new RowRouter({
      input: source.shape,
      outFormat,
      cleanPath: outputs.tempPath(names.clean),
      quarantinePath: outputs.tempPath(names.quarantine),
      contract,
    });
    await router.open();
    const registry = new ReasonRegistry();
    const flags = new BatchFindings(registry);
    const quarantine = new Quarantine();
    const rowsFlaggedByCheck: number[] = definitions.map(() => 0);
    const sources = new SourceStats({ sourceColumn: contract.source ?? null, labelColumn: contract.label ?? null });
    let rows = 0;
    for await (const raw of source.batches({ batchRows: options.batchRows })) {
      const batch = applyContractTypes(raw, contract);
      flags.reset();
      for (let c = 0; c < runners.length; c++) {
        flags.check = c;
        runners[c]!.run(batch, flags);
      }
      const from = quarantine.length;
      foldBatch(flags, registry, batch.rowOffset, batch.rowCount, heldCodes, quarantine, rowsFlaggedByCheck);
      await router.route(raw, batch, quarantine, from);
      sources.addBatch(batch, ...batchHits(quarantine, from, batch.rowOffset, batch.rowCount));
      rows += batch.rowCount;
      options.onProgress?.(rows, source.shape.declaredRows);
    }
    const ends = runners.map((r) => r.end?.() ?? {});
    for (const end of ends) findings.push(...(end.findings ?? []));
    await router.close();
    const checked = performance.now();

    const checkReports: CheckReport[] = definitions.map((definition, c) => {
      const reasons: Record<string, number> = {};
      registry.codes.forEach((code, id) => {
        if (registry.checkOf[id] === c && registry.rowCounts[id]! > 0) reasons[code] = registry.rowCounts[id]!;
      });
      const summary = ends[c]!.summary;
      return {
        id: definition.meta.id,
        description: definition.meta.description,
        flaggedRows: rowsFlaggedByCheck[c]!,
        reasons,
        ...(summary ? { summary } : {}),
      };
    });
    const fraction = rows === 0 ? 0 : quarantine.length / rows;
    const { verdict, reasons: verdictReasons } = decideVerdict(fraction, contract.gate, findings);
    const report: Report = {
      reportVersion: 1,
      tool: { name: 'datawarden', version: TOOL_VERSION },
      createdAt: new Date().toISOString(),
      input: {
        path: options.input, format: source.format, sha256, bytes, rows,
        declaredRows: source.shape.declaredRows, columns: source.shape.columns,
      },
      contract: { name: contract.name, path: options.contract.path, sha256: options.contract.sha256 },
      options: { checks: definitions.map((d) => d.meta.id), seed, outputFormat: outFormat },
      checks: checkReports,
      findings,
      quarantine: { rows: quarantine.length, fraction },
      clean: { rows: router.cleanRows },
      gate: contract.gate,
      verdict,
      verdictReasons,
      exitCode: EXIT_CODES[verdict],
      timings: {
        hashMs: Math.round(hashed - started),
        scanMs: Math.round(checked - hashed),
        totalMs: Math.round(performance.now() - started),
      },
      outputs: { clean: names.clean, quarantine: names.quarantine, reportMarkdown: names.reportMarkdown },
      sources: sources.toJSON(),
      ...(options.manifest ? { provenance: { manifest: options.manifest } } : {}),
    };
    const reportText = `${JSON.stringify(report, null, 2)}\n`;
    await writeFile(outputs.tempPath(names.reportMarkdown), reportMarkdown(report));
    await writeFile(outputs.tempPath(names.report), reportText);
    await outputs.commit(names.report);
    await memory?.save();
    if (options.auditLog) {
      await appendAuditRecord(options.auditLog, {
        toolVersion: TOOL_VERSION,
        inputSha256: sha256,
        contractSha256: options.contract.sha256,
        modelSha256: null,
        reportSha256: sha256Of(reportText),
        verdict,
        counts: { rows, clean: router.cleanRows, quarantined: quarantine.length },
      });
    }
    return { report, reportPath: outputs.finalPath(names.report) };
  } catch (error) {
    await router?.abort();
    await outputs.abort();
    throw error;
  } finally {
    await source.close();
  }
}

/** This batch's quarantined rows as a mask and as (row, code) hits, for per-source statistics. */
function batchHits(quarantine: Quarantine, from: number, rowOffset: number, rowCount: number): [Uint8Array | null, RowHit[]] {
  if (quarantine.length === from) return [null, []];
  const mask = new Uint8Array(rowCount);
  const hits: RowHit[] = [];
  for (let k = from; k < quarantine.length; k++) {
    const row = quarantine.rows[k]! - rowOffset;
    mask[row] = 1;
    for (const code of quarantine.reasonsOf(k).split(';')) hits.push({ row, code });
  }
  return [mask, hits];
}

export function sha256Of(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
