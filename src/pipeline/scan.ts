// scan: stream a dataset through its contract's checks and write the clean set, the quarantine
// set and the report. Three phases, so that a scan can also be split across queue workers:
//   planScan      hash the input, settle provenance, pick the checks;
//   checkRange    read rows (all, or one range), apply the contract's types, run the checks,
//                 fold flags into a compact quarantine list and the checks' states;
//   completeScan  fold the ranges' states (late flags included), route rows, write the report.
// In one process, routing happens inside checkRange and the input is read once; only when a
// check flags rows at the end (a trigger was found) does completeScan read it again to route
// every row with those flags.
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CheckContext, CheckDefinition, CheckEnd, ScoreSink, WorkerThreads } from '../core/check.js';
import type { Batch, DatasetFinding } from '../core/types.js';
import { InputError } from '../core/errors.js';
import { TOOL_VERSION } from '../core/version.js';
import { selectChecks } from '../checks/index.js';
import type { ModelBundle } from '../detectors/bundle.js';
import { ScoringThreads } from '../detectors/threads.js';
import { replayCheck } from '../checks/replay.js';
import { applyContractTypes } from '../contract/coerce.js';
import type { LoadedContract } from '../contract/load.js';
import { OutputSet } from '../io/atomic.js';
import { countRows } from '../io/count.js';
import { hashFileInBackground } from '../io/file-hash.js';
import { extensionOf, type Format } from '../io/formats.js';
import { DEFAULT_BATCH_ROWS, openSource, type RowRange, type Source } from '../io/source.js';
import type { InputShape } from '../core/check.js';
import { appendAuditRecord } from '../provenance/audit-log.js';
import { provenanceFindings } from '../provenance/findings.js';
import { parseManifest } from '../provenance/manifest.js';
import { openReplayStore } from '../provenance/replay-memory.js';
import type { ReplayStore } from '../provenance/replay-store.js';
import { SourceStats, type RowHit, type SourceStatsJson } from '../provenance/source-stats.js';
import { BatchFindings, foldBatch, Quarantine, ReasonRegistry } from './findings.js';
import { RowRouter } from './outputs.js';
import { fit, loadModel, type FittedModel } from './fit.js';
import { ScoreWriter } from './scores.js';
import { QuarantineMemory } from './remember.js';
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
  /** A fitted model bundle for the detectors (see fit.ts); else `modelPath`, `baseline`, or a fit on the input. */
  readonly model?: FittedModel;
  /** A saved model bundle (`datawarden fit --model FILE`). */
  readonly modelPath?: string;
  /** Trusted data to fit the detectors on first. */
  readonly baseline?: string;
  /** Rows sampled to fit on (default DEFAULT_FIT_ROWS). */
  readonly fitRows?: number;
  /** Also write scores.<ext>: `_row`, `outlier_score`, `label_score` for every row. */
  readonly emitScores?: boolean;
  /** A signed manifest to verify before any row is released. */
  readonly manifest?: string;
  /**
   * Replay memory: fingerprints of known-bad rows (and of rows seen before), in a file, or in
   * Redis for `redis:<name>` (REDIS_URL, keys under DATAWARDEN_QUEUE_PREFIX).
   */
  readonly memory?: string;
  /** Append a record of this scan to this audit log. */
  readonly auditLog?: string;
  /**
   * The input's sha256 as the caller saw it (a queue job, the file it was enqueued for). The
   * scan hashes its input as it reads it anyway; a different hash fails the scan with an input
   * error before any output is committed.
   */
  readonly expectedSha256?: string;
  /**
   * Threads that score batches for the detectors besides the scan's own (0: none). Default
   * DATAWARDEN_SCORING_THREADS, else one fewer than the cores, at most 4. Scores and flags are
   * the same whatever the count.
   */
  readonly threads?: number;
  /** Called after each batch with rows done and the total when known. */
  readonly onProgress?: (rowsDone: number, totalRows: number | null) => void;
}

export interface ScanResult {
  readonly report: Report;
  readonly reportPath: string;
}

export const DEFAULT_SEED = 42;

/** What every phase of one scan shares. */
export interface ScanPlan {
  readonly options: ScanOptions;
  readonly seed: number;
  readonly shape: InputShape;
  readonly outFormat: Format;
  /** The input's sha256 and size, computed in the background. */
  readonly hashing: Promise<{ readonly sha256: string; readonly bytes: number }>;
  readonly definitions: readonly CheckDefinition[];
  /** Dataset-level findings known before any row is read (provenance, a missing column). */
  readonly findings: readonly DatasetFinding[];
  /** Codes of findings that hold every row back. */
  readonly heldCodes: readonly string[];
  /** Whether some check may flag rows only at the end, so rows routed as they are checked may need routing again. */
  readonly flagsAtEnd: boolean;
  readonly memory?: ReplayStore;
  /** What the manifest claims (signer, source), when one was given and could be read. */
  readonly manifest?: { readonly path: string; readonly signer?: string; readonly keyId?: string; readonly source?: string; readonly createdAt?: string };
  /** Notes quarantined rows for the replay memory (with `memory`). */
  readonly remember?: QuarantineMemory;
  /** The detectors' model, and where it came from, when a selected check needs one. */
  readonly model?: FittedModel;
  readonly modelSource?: 'given' | 'file' | 'baseline' | 'input';
  readonly startedAt: number;
}

/** What a dataset job already settled, handed to the plans of its range jobs and its completion. */
export interface PlanOptions {
  /** The input's sha256 and size when a caller already has them. */
  readonly sha256?: string;
  readonly bytes?: number;
  /** Verify the manifest and provenance; a batch job leaves this to its parent. Default true. */
  readonly provenance?: boolean;
  /** Dataset findings already settled (provenance and the checks' begin(context)): used as they are. */
  readonly findings?: readonly DatasetFinding[];
  /** Where the given model came from, for the report. */
  readonly modelSource?: ScanPlan['modelSource'];
  /** When the scan began (epoch ms), if in another process. */
  readonly startedAtEpochMs?: number;
  /** The input, already open (its shape is read from it); the caller closes it. */
  readonly source?: Source;
}

export async function planScan(options: ScanOptions, planOptions: PlanOptions = {}): Promise<ScanPlan> {
  // performance.now() is per process: a scan begun elsewhere is placed on this process's clock.
  const startedAt = planOptions.startedAtEpochMs === undefined ? performance.now() : performance.now() - (Date.now() - planOptions.startedAtEpochMs);
  const { contract } = options.contract;
  let shape: InputShape;
  if (planOptions.source) shape = planOptions.source.shape;
  else {
    const source = await openSource(options.input, 'raw');
    shape = source.shape;
    await source.close();
  }
  // The input is hashed on another thread while it is read; the replay memory needs the hash
  // as the dataset's id before any row is checked.
  const hashing = planOptions.sha256
    ? Promise.resolve({ sha256: planOptions.sha256, bytes: planOptions.bytes ?? 0 })
    : hashFileInBackground(options.input);
  hashing.catch(() => undefined);
  const settled = planOptions.findings;
  const findings: DatasetFinding[] = settled ? [...settled] : planOptions.provenance === false ? [] : await provenanceFindings({
    provenance: contract.provenance,
    contractDir: dirname(options.contract.path),
    datasetPath: options.input,
    manifestPath: options.manifest,
    rowCount: shape.declaredRows ?? countRows,
  });
  const definitions: CheckDefinition[] = selectChecks(options.checks);
  const memory = options.memory ? await openReplayStore(options.memory) : undefined;
  if (memory) definitions.push(replayCheck({ store: memory, datasetId: (await hashing).sha256 }));
  const seed = options.seed ?? DEFAULT_SEED;
  const { model, modelSource } = definitions.some((d) => d.meta.needsModel)
    ? await resolveModel(options, seed)
    : { model: undefined, modelSource: undefined };
  const context = contextOf(options, shape, seed, false, model && { fitted: model, source: planOptions.modelSource ?? modelSource });
  if (!settled) {
    findings.push(...definitions.flatMap((d) => d.begin?.(context) ?? []));
    if (model) findings.push(...droppedFeatures(model.bundle));
  }
  const heldCodes = findings.filter((f) => f.holdAllRows).map((f) => f.code);
  const manifest = options.manifest ? await manifestClaims(options.manifest) : undefined;
  return {
    manifest,
    options, seed, shape, hashing, definitions, findings, memory, startedAt, model,
    modelSource: planOptions.modelSource ?? modelSource,
    remember: memory ? new QuarantineMemory(memory, options.contract.contract, new Set(heldCodes)) : undefined,
    outFormat: options.format ?? shape.format as Format,
    heldCodes,
    flagsAtEnd: definitions.some((d) => d.meta.flagsAtEnd === true),
  };
}

/** The manifest's signer and source for the report; a manifest that cannot be read has findings of its own. */
async function manifestClaims(path: string): Promise<NonNullable<ScanPlan['manifest']>> {
  const { manifest } = parseManifest(await readFile(path, 'utf8').catch(() => ''));
  return manifest ? { path, signer: manifest.signer, keyId: manifest.keyId, source: manifest.source, createdAt: manifest.createdAt } : { path };
}

/**
 * Feature columns the fit could not use (all null, one value, missing, an identifier), told once:
 * the detectors do without them, which the report should say.
 */
function droppedFeatures(bundle: ModelBundle): DatasetFinding[] {
  const dropped = bundle.encoder.dropped;
  // Fitted on no rows, every column is "dropped": the detectors' skip findings say why.
  if (dropped.length === 0 || bundle.sampleRows === 0) return [];
  return [{
    check: 'detectors',
    code: 'detectors:features_dropped',
    severity: 'info',
    message: `the detectors do without ${dropped.length === 1 ? 'a column' : `${dropped.length} columns`}: ${dropped.map((d) => d.message).join('; ')}`,
    details: { dropped: dropped.map(({ column, reason }) => ({ column, reason })) },
  }];
}

/** The model a scan's detectors use: given, saved, fitted on a baseline, or fitted on the input itself. */
async function resolveModel(options: ScanOptions, seed: number): Promise<{ model: FittedModel; modelSource: ScanPlan['modelSource'] }> {
  if (options.model) return { model: options.model, modelSource: 'given' };
  if (options.modelPath) return { model: await loadModel(options.modelPath, options.contract), modelSource: 'file' };
  const dataset = options.baseline ?? options.input;
  const model = await fit({ dataset, contract: options.contract, seed, sampleRows: options.fitRows, scanned: !options.baseline });
  return { model, modelSource: options.baseline ? 'baseline' : 'input' };
}

/** A scan's model and where it came from. */
interface ModelInUse {
  readonly fitted: FittedModel;
  readonly source: ScanPlan['modelSource'];
}

function modelOf(plan: ScanPlan): ModelInUse | undefined {
  return plan.model && { fitted: plan.model, source: plan.modelSource };
}

function contextOf(options: ScanOptions, input: InputShape, seed: number, partial: boolean, model?: ModelInUse, scores?: ScoreSink, threads?: WorkerThreads): CheckContext {
  return {
    contract: options.contract.contract, input, seed, model: model?.fitted.bundle, modelFittedOnInput: model?.source === 'input', partial, scores, threads,
  };
}

/**
 * Batches checked and not yet folded, besides the one being read: the threads score it while
 * this thread reads and checks the next. No more: a source reuses a batch's arrays once two more
 * batches are read, and a batch is routed from its arrays when it is folded.
 */
const IN_FLIGHT_BATCHES = 1;

/** A batch checked but not yet folded: runners on other threads may still be scoring it. */
interface InFlight {
  readonly raw: Batch;
  readonly batch: Batch;
  readonly flags: BatchFindings;
  readonly done: Promise<void> | undefined;
  /** The scoring threads' job mark once the batch was checked: its jobs are those below. */
  readonly mark: number | undefined;
}

/** What checking one row range (or the whole input) produced; v8-serialisable for the queue. */
export interface RangeResult {
  readonly range: RowRange | null;
  readonly rows: number;
  /** Quarantined rows in order, each with the id of its reason set text. */
  readonly quarantineRows: Float64Array;
  readonly quarantineReasonSets: Uint32Array;
  readonly reasonSetTexts: readonly string[];
  /** The check (index into the plan's definitions) that writes each reason code seen. */
  readonly codeChecks: Readonly<Record<string, number>>;
  /** Each check's state, in definition order. */
  readonly states: readonly unknown[];
  /** Per-source statistics of the rows checked (set when rows were routed as they were checked). */
  readonly sources?: SourceStatsJson;
}

/**
 * Detectors score on other threads when there are cores to spare, unless the rows are known to
 * fit in one batch: a thread then starts too late to take a share, and costs its start (a
 * 40,000-row scan in a warm process took 276 ms with one, 245 ms without; from 65,536 rows on,
 * the thread pays).
 */
function scoringThreadsFor(plan: ScanPlan, range?: RowRange): ScoringThreads | undefined {
  if (plan.model === undefined || !plan.definitions.some((d) => d.meta.needsModel)) return undefined;
  if (fitsOneBatch(plan.shape.declaredRows, range, plan.options.batchRows ?? DEFAULT_BATCH_ROWS)) return undefined;
  return ScoringThreads.lease(plan.options.threads);
}

/** Whether the rows to check (a range's, else the input's) are known to be at most one batch. */
export function fitsOneBatch(declaredRows: number | null, range: RowRange | undefined, batchRows: number): boolean {
  const end = range === undefined ? declaredRows : Math.min(range.end, declaredRows ?? Infinity);
  return end !== null && end - (range?.start ?? 0) <= batchRows;
}

/**
 * Reads and checks rows. With a router, each batch's rows are routed as soon as it is checked
 * (when the plan has late flags, completeScan must be told the routing is tentative). `input`
 * is the input already open and not read yet, which the caller closes; else it is opened here.
 */
export async function checkRange(plan: ScanPlan, range?: RowRange, router?: RowRouter, scoresPath?: string, input?: Source): Promise<RangeResult> {
  const { options } = plan;
  const { contract } = options.contract;
  const scores = scoresPath ? new ScoreWriter(scoresPath, plan.outFormat) : undefined;
  const threads = scoringThreadsFor(plan, range);
  const context = contextOf(options, plan.shape, plan.seed, range !== undefined, modelOf(plan), scores, threads);
  const runners = plan.definitions.map((d) => d.create(context));
  const registry = new ReasonRegistry();
  const quarantine = new Quarantine();
  const perCheck: number[] = plan.definitions.map(() => 0);
  const sources = router ? newSourceStats(plan) : undefined;
  const source = input ?? (await openSource(options.input, 'raw'));
  let rows = 0;
  // A batch is folded (and routed) once every runner is done with it. Runners that score on
  // other threads finish later, so the next batch is read and checked meanwhile.
  const settle = async ({ raw, batch, flags, done, mark }: InFlight): Promise<void> => {
    // Rather than wait for the threads, this thread takes its share of the batch's scoring.
    if (mark !== undefined) threads?.helpUntil(mark);
    await done;
    await scores?.flush(batch);
    const from = quarantine.length;
    foldBatch(flags, registry, batch.rowOffset, batch.rowCount, plan.heldCodes, quarantine, perCheck);
    if (router) {
      await router.route(raw, batch, quarantine, from);
      sources!.addBatch(batch, ...batchHits(quarantine, from, batch.rowOffset, batch.rowCount));
      plan.remember?.observe(batch, quarantine, from, quarantine.length);
    }
    rows += batch.rowCount;
    options.onProgress?.(rows, plan.shape.declaredRows);
  };
  const inFlight: InFlight[] = [];
  try {
    await scores?.open();
    const hashColumns = runners.flatMap((r) => r.hashColumns ?? []);
    for await (const raw of source.batches({ batchRows: options.batchRows, range, hashColumns })) {
      const batch = applyContractTypes(raw, contract);
      const flags = new BatchFindings(registry);
      const waits: Promise<void>[] = [];
      for (let c = 0; c < runners.length; c++) {
        const done = runners[c]!.run(batch, flags.forCheck(c));
        if (done) waits.push(done);
      }
      const done = waits.length > 0 ? Promise.all(waits).then(() => undefined) : undefined;
      // Awaited in settle(); until then a failure must not count as unhandled.
      done?.catch(() => undefined);
      inFlight.push({ raw, batch, flags, done, mark: threads?.mark() });
      if (inFlight.length > IN_FLIGHT_BATCHES) await settle(inFlight.shift()!);
    }
    while (inFlight.length > 0) await settle(inFlight.shift()!);
    await scores?.close();
  } catch (error) {
    await scores?.abort();
    throw error;
  } finally {
    await threads?.close();
    if (!input) await source.close();
  }
  const codeChecks: Record<string, number> = {};
  registry.codes.forEach((code, id) => (codeChecks[code] = registry.checkOf[id]!));
  return {
    range: range ?? null,
    rows,
    quarantineRows: quarantine.rows.slice(0, quarantine.length),
    quarantineReasonSets: quarantine.reasonSets.slice(0, quarantine.length),
    reasonSetTexts: [...quarantine.reasonSetTexts],
    codeChecks,
    states: runners.map((r) => r.state?.()),
    sources: sources?.toJSON(),
  };
}

function newSourceStats(plan: ScanPlan): SourceStats {
  const { contract } = plan.options.contract;
  return new SourceStats({ sourceColumn: contract.source ?? null, labelColumn: contract.label ?? null });
}

/** One scan in this process: the input is opened once, for the plan and the read. */
export async function scan(options: ScanOptions): Promise<ScanResult> {
  const input = await openSource(options.input, 'raw');
  try {
    return await scanInput(await planScan(options, { source: input }), input);
  } finally {
    await input.close();
  }
}

async function scanInput(plan: ScanPlan, input: Source): Promise<ScanResult> {
  const { options } = plan;
  const outputs = new OutputSet(options.outDir);
  await outputs.prepare();
  const scoresPath = options.emitScores ? outputs.tempPath(outputNames(plan.outFormat).scores) : undefined;
  // Rows are routed as they are checked. When some check can flag rows only at the end (a
  // trigger), that routing is tentative: it stands when the check flags none at the end (no
  // trigger found, the usual case), and completeScan routes every row again when it does.
  const router = routerFor(plan, outputs);
  try {
    await router.open();
    const result = await checkRange(plan, undefined, router, scoresPath, input);
    await router.close();
    return await completeScan(plan, [result], { outputs, router, tentative: plan.flagsAtEnd });
  } catch (error) {
    await router.abort();
    await outputs.abort();
    throw error;
  }
}

function outputNames(format: Format) {
  const ext = extensionOf(format);
  return { clean: `clean.${ext}`, quarantine: `quarantine.${ext}`, scores: `scores.${ext}`, reportMarkdown: 'report.md', report: 'report.json' };
}

function routerFor(plan: ScanPlan, outputs: OutputSet): RowRouter {
  const names = outputNames(plan.outFormat);
  return new RowRouter({
    input: plan.shape,
    outFormat: plan.outFormat,
    cleanPath: outputs.tempPath(names.clean),
    quarantinePath: outputs.tempPath(names.quarantine),
    contract: plan.options.contract.contract,
  });
}

/** Concatenates the ranges' quarantines (ranges are disjoint and in row order). */
function mergeQuarantines(results: readonly RangeResult[]): Quarantine {
  const merged = new Quarantine();
  for (const result of results) {
    for (let k = 0; k < result.quarantineRows.length; k++) {
      merged.add(result.quarantineRows[k]!, result.reasonSetTexts[result.quarantineReasonSets[k]!]!);
    }
  }
  return merged;
}

/** Late row flags: a static list of rows per code, or a test run on each batch as it is routed. */
interface LateWork {
  /** Sorted global rows with their codes (from CheckEnd.lateFlags). */
  readonly rows: number[];
  readonly codes: Map<number, string[]>;
  readonly flaggers: { readonly check: number; readonly flagRows: NonNullable<CheckEnd['flagRows']> }[];
}

function lateWorkOf(ends: readonly CheckEnd[]): LateWork {
  const codes = new Map<number, string[]>();
  for (const end of ends) {
    for (const flagged of end.lateFlags ?? []) {
      for (let k = 0; k < flagged.rows.length; k++) {
        const row = flagged.rows[k]!;
        codes.set(row, [...(codes.get(row) ?? []), flagged.code]);
      }
    }
  }
  const flaggers = ends.flatMap((end, check) => (end.flagRows ? [{ check, flagRows: end.flagRows }] : []));
  return { rows: [...codes.keys()].sort((a, b) => a - b), codes, flaggers };
}

interface Routed {
  readonly outputs: OutputSet;
  /** Set when rows were routed as they were checked. */
  readonly router?: RowRouter;
  /** The routing did not wait for late flags: if there are some, rows are routed again. */
  readonly tentative?: boolean;
}

/**
 * Routes every row by the checked quarantine, adding late flags batch by batch. Returns the final
 * quarantine, in which each row's reasons stay in check order, then by code; codes that hold
 * every row back stay first.
 */
async function routeAll(
  plan: ScanPlan,
  checked: Quarantine,
  late: LateWork,
  checkOf: (code: string) => number,
  outputs: OutputSet,
): Promise<{ router: RowRouter; sources: SourceStats; quarantine: Quarantine }> {
  const router = routerFor(plan, outputs);
  const sources = newSourceStats(plan);
  const { contract } = plan.options.contract;
  const held = new Set(plan.heldCodes);
  const order = (a: string, b: string) =>
    (held.has(a) ? -1 : checkOf(a)) - (held.has(b) ? -1 : checkOf(b)) || (a < b ? -1 : a > b ? 1 : 0);
  const registry = new ReasonRegistry();
  const flags = new BatchFindings(registry);
  const quarantine = new Quarantine();
  const source = await openSource(plan.options.input, 'raw');
  try {
    await router.open();
    let next = 0;
    let nextLate = 0;
    for await (const raw of source.batches({ batchRows: plan.options.batchRows })) {
      const end = raw.rowOffset + raw.rowCount;
      const typed = applyContractTypes(raw, contract);
      const codesByRow = new Map<number, Set<string>>();
      const add = (row: number, codes: Iterable<string>) => {
        const set = codesByRow.get(row) ?? new Set<string>();
        for (const code of codes) set.add(code);
        codesByRow.set(row, set);
      };
      for (; next < checked.length && checked.rows[next]! < end; next++) add(checked.rows[next]!, checked.reasonsOf(next).split(';'));
      for (; nextLate < late.rows.length && late.rows[nextLate]! < end; nextLate++) add(late.rows[nextLate]!, late.codes.get(late.rows[nextLate]!)!);
      if (late.flaggers.length > 0) {
        flags.reset();
        for (const { check, flagRows } of late.flaggers) {
          flags.check = check;
          flagRows(typed, flags);
        }
        for (let k = 0; k < flags.length; k++) add(raw.rowOffset + flags.rowAt(k), [registry.codes[flags.reasonAt(k)]!]);
      }
      const from = quarantine.length;
      for (const row of [...codesByRow.keys()].sort((a, b) => a - b)) quarantine.add(row, [...codesByRow.get(row)!].sort(order).join(';'));
      await router.route(raw, typed, quarantine, from);
      sources.addBatch(typed, ...batchHits(quarantine, from, raw.rowOffset, raw.rowCount));
      plan.remember?.observe(typed, quarantine, from, quarantine.length);
    }
    await router.close();
    return { router, sources, quarantine };
  } catch (error) {
    await router.abort();
    throw error;
  } finally {
    await source.close();
  }
}

/**
 * Folds the ranges' results into the scan's end: late flags, routing (unless rows were routed
 * as they were checked), the report, and the audit record.
 */
export async function completeScan(plan: ScanPlan, results: readonly RangeResult[], routed?: Routed): Promise<ScanResult> {
  const { options } = plan;
  const names = outputNames(plan.outFormat);
  const outputs = routed?.outputs ?? new OutputSet(options.outDir);
  try {
    const hash = await plan.hashing;
    if (options.expectedSha256 !== undefined && hash.sha256 !== options.expectedSha256) {
      throw new InputError(`the dataset changed since the scan was requested (its sha256 is ${hash.sha256}, not ${options.expectedSha256})`, { subject: options.input });
    }
    const context = contextOf(options, plan.shape, plan.seed, results.length > 1, modelOf(plan));
    let ends = plan.definitions.map((d, c): CheckEnd => d.finish?.(results.map((r) => r.states[c]), context) ?? {});
    const codeChecks = new Map<string, number>();
    for (const result of results) for (const [code, check] of Object.entries(result.codeChecks)) codeChecks.set(code, check);
    const checkIds = plan.definitions.map((d) => d.meta.id);
    // Late codes (a trigger:<column>=<value>) may appear only now; their prefix names the check.
    const checkOf = (code: string) => codeChecks.get(code) ?? checkIds.indexOf(code.split(':')[0]!);
    const late = lateWorkOf(ends);
    let router = routed?.router;
    let sources: SourceStats;
    let quarantine = mergeQuarantines(results);
    if (router && (late.rows.length > 0 || late.flaggers.length > 0)) {
      if (!routed?.tentative) throw new Error('late flags after rows were routed: a check flags at the end without declaring meta.flagsAtEnd');
      // The rows were routed before the late flags were known: drop that routing and redo it.
      await router.abort();
      plan.remember?.forget();
      router = undefined;
    }
    if (router) {
      sources = newSourceStats(plan);
      for (const result of results) if (result.sources) sources.merge(SourceStats.fromJSON(result.sources));
    } else {
      await outputs.prepare();
      ({ router, sources, quarantine } = await routeAll(plan, quarantine, late, checkOf, outputs));
      ends = ends.map((end) => (end.afterRouting ? { ...end, ...end.afterRouting() } : end));
    }
    const rows = results.reduce((n, r) => n + r.rows, 0);
    if (router.cleanRows + router.quarantineRows !== rows) {
      throw new Error(`routing lost rows: ${rows} read, ${router.cleanRows} clean + ${router.quarantineRows} quarantined`);
    }
    const findings = [...plan.findings, ...ends.flatMap((e) => e.findings ?? [])];
    const report = buildReport(plan, hash, quarantine, ends, checkOf, findings, rows, router.cleanRows, sources, names);
    const reportText = `${JSON.stringify(report, null, 2)}\n`;
    await writeFile(outputs.tempPath(names.reportMarkdown), reportMarkdown(report));
    await writeFile(outputs.tempPath(names.report), reportText);
    await outputs.commit(names.report);
    if (plan.memory) {
      plan.remember?.commit(hash.sha256);
      await plan.memory.save();
    }
    if (options.auditLog) {
      await appendAuditRecord(options.auditLog, {
        toolVersion: TOOL_VERSION,
        inputSha256: hash.sha256,
        contractSha256: options.contract.sha256,
        modelSha256: plan.model?.sha256 ?? null,
        reportSha256: sha256Of(reportText),
        verdict: report.verdict,
        counts: { rows, clean: router.cleanRows, quarantined: quarantine.length },
      });
    }
    return { report, reportPath: outputs.finalPath(names.report) };
  } catch (error) {
    await outputs.abort();
    throw error;
  }
}

function buildReport(
  plan: ScanPlan,
  hash: { readonly sha256: string; readonly bytes: number },
  quarantine: Quarantine,
  ends: readonly CheckEnd[],
  checkOf: (code: string) => number,
  findings: readonly DatasetFinding[],
  rows: number,
  cleanRows: number,
  sources: SourceStats,
  names: ReturnType<typeof outputNames>,
): Report {
  const { options } = plan;
  const { contract } = options.contract;
  // Counted from the final quarantine, so late flags count like any other; codes that hold
  // every row back are dataset findings, not per-check hits.
  const held = new Set(plan.heldCodes);
  const reasonRows = plan.definitions.map(() => new Map<string, number>());
  const checkRows = plan.definitions.map(() => 0);
  const checksOfRow = new Set<number>();
  for (let k = 0; k < quarantine.length; k++) {
    checksOfRow.clear();
    for (const code of quarantine.reasonsOf(k).split(';')) {
      if (held.has(code)) continue;
      const check = checkOf(code);
      reasonRows[check]!.set(code, (reasonRows[check]!.get(code) ?? 0) + 1);
      checksOfRow.add(check);
    }
    for (const check of checksOfRow) checkRows[check]!++;
  }
  const checks: CheckReport[] = plan.definitions.map((definition, c) => ({
    id: definition.meta.id,
    description: definition.meta.description,
    flaggedRows: checkRows[c]!,
    reasons: Object.fromEntries(reasonRows[c]!),
    ...(ends[c]!.summary ? { summary: ends[c]!.summary } : {}),
  }));
  const fraction = rows === 0 ? 0 : quarantine.length / rows;
  const { verdict, reasons: verdictReasons } = decideVerdict(fraction, contract.gate, findings);
  const totalMs = performance.now() - plan.startedAt;
  return {
    reportVersion: 1,
    tool: { name: 'datawarden', version: TOOL_VERSION },
    createdAt: new Date().toISOString(),
    input: {
      path: options.input, format: plan.shape.format, sha256: hash.sha256, bytes: hash.bytes, rows,
      declaredRows: plan.shape.declaredRows, columns: plan.shape.columns,
    },
    contract: { name: contract.name, path: options.contract.path, sha256: options.contract.sha256 },
    options: { checks: plan.definitions.map((d) => d.meta.id), seed: plan.seed, outputFormat: plan.outFormat },
    checks,
    findings: [...findings],
    quarantine: { rows: quarantine.length, fraction },
    clean: { rows: cleanRows },
    gate: contract.gate,
    verdict,
    verdictReasons,
    exitCode: EXIT_CODES[verdict],
    timings: { totalMs: Math.round(totalMs) },
    outputs: { clean: names.clean, quarantine: names.quarantine, reportMarkdown: names.reportMarkdown },
    sources: sources.toJSON(),
    ...(plan.manifest
      ? { provenance: { manifest: plan.manifest, verified: !findings.some((f) => f.code.startsWith('provenance:') && f.holdAllRows) } }
      : {}),
    ...(plan.model
      ? {
          model: {
            sha256: plan.model.sha256,
            source: plan.modelSource,
            path: plan.modelSource === 'file' ? options.modelPath : plan.modelSource === 'baseline' ? options.baseline : undefined,
            createdAt: plan.model.bundle.createdAt,
            seed: plan.model.bundle.seed,
            sampleRows: plan.model.bundle.sampleRows,
            parameters: plan.model.bundle.parameters,
            skipped: plan.model.bundle.skipped,
          },
        }
      : {}),
  };
}

/** Quarantine entries [from, to) of one batch as a row mask and (row, code) hits. */
function batchHits(quarantine: Quarantine, from: number, rowOffset: number, rowCount: number, to = quarantine.length): [Uint8Array | null, RowHit[]] {
  if (to === from) return [null, []];
  const mask = new Uint8Array(rowCount);
  const hits: RowHit[] = [];
  for (let k = from; k < to; k++) {
    const row = quarantine.rows[k]! - rowOffset;
    mask[row] = 1;
    for (const code of quarantine.reasonsOf(k).split(';')) hits.push({ row, code });
  }
  return [mask, hits];
}

export function sha256Of(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
