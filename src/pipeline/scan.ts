// scan: stream a dataset through its contract's checks, then write the clean set, the quarantine
// set and the report. Pass one reads batches, applies the contract's types and runs every check,
// folding flags into a compact quarantine list; pass two routes rows into the two files.
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import type { CheckContext, CheckRunner } from '../core/check.js';
import type { DatasetFinding } from '../core/types.js';
import { TOOL_VERSION } from '../core/version.js';
import { selectChecks } from '../checks/index.js';
import { applyContractTypes } from '../contract/coerce.js';
import type { LoadedContract } from '../contract/load.js';
import { OutputSet } from '../io/atomic.js';
import { hashFile } from '../io/file-hash.js';
import { extensionOf, type Format } from '../io/formats.js';
import { openSource } from '../io/source.js';
import { BatchFindings, foldBatch, Quarantine, ReasonRegistry } from './findings.js';
import { writeRoutedOutputs } from './outputs.js';
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
  const definitions = selectChecks(options.checks);
  const source = await openSource(options.input, 'raw');
  let hashed = started;
  const outFormat = options.format ?? source.format;
  const outputs = new OutputSet(options.outDir);
  try {
    const { sha256, bytes } = await hashFile(options.input);
    hashed = performance.now();
    const context: CheckContext = { contract, input: source.shape, seed, model: options.model };
    const runners: CheckRunner[] = definitions.map((d) => d.create(context));
    const findings: DatasetFinding[] = runners.flatMap((r) => r.begin?.() ?? []);
    const heldCodes = findings.filter((f) => f.holdAllRows).map((f) => f.code);

    const registry = new ReasonRegistry();
    const flags = new BatchFindings(registry);
    const quarantine = new Quarantine();
    const rowsFlaggedByCheck: number[] = definitions.map(() => 0);
    let rows = 0;
    for await (const raw of source.batches({ batchRows: options.batchRows })) {
      const batch = applyContractTypes(raw, contract);
      flags.reset();
      for (let c = 0; c < runners.length; c++) {
        flags.check = c;
        runners[c]!.run(batch, flags);
      }
      foldBatch(flags, registry, batch.rowOffset, batch.rowCount, heldCodes, quarantine, rowsFlaggedByCheck);
      rows += batch.rowCount;
      options.onProgress?.(rows, source.shape.declaredRows);
    }
    const ends = runners.map((r) => r.end?.() ?? {});
    for (const end of ends) findings.push(...(end.findings ?? []));
    const checked = performance.now();

    await outputs.prepare();
    const ext = extensionOf(outFormat);
    const names = { clean: `clean.${ext}`, quarantine: `quarantine.${ext}`, reportMarkdown: 'report.md', report: 'report.json' };
    const routed = await writeRoutedOutputs({
      input: source.shape,
      engine: source.engine,
      outFormat,
      cleanPath: outputs.tempPath(names.clean),
      quarantinePath: outputs.tempPath(names.quarantine),
      quarantine,
      contract,
    });
    if (routed.cleanRows + routed.quarantineRows !== rows || routed.quarantineRows !== quarantine.length) {
      throw new Error(`routing lost rows: ${rows} read, ${routed.cleanRows} clean + ${routed.quarantineRows} quarantined`);
    }
    const written = performance.now();

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
      clean: { rows: routed.cleanRows },
      gate: contract.gate,
      verdict,
      verdictReasons,
      exitCode: EXIT_CODES[verdict],
      timings: {
        hashMs: Math.round(hashed - started),
        checkMs: Math.round(checked - hashed),
        writeMs: Math.round(written - checked),
        totalMs: Math.round(performance.now() - started),
      },
      outputs: { clean: names.clean, quarantine: names.quarantine, reportMarkdown: names.reportMarkdown },
    };
    const reportText = `${JSON.stringify(report, null, 2)}\n`;
    await writeFile(outputs.tempPath(names.reportMarkdown), reportMarkdown(report));
    await writeFile(outputs.tempPath(names.report), reportText);
    await outputs.commit(names.report);
    return { report, reportPath: outputs.finalPath(names.report) };
  } catch (error) {
    await outputs.abort();
    throw error;
  } finally {
    await source.close();
  }
}

/** sha256 of a report's text, as the audit log records it. */
export function reportSha256(report: Report): string {
  return createHash('sha256').update(`${JSON.stringify(report, null, 2)}\n`).digest('hex');
}
