// datawarden as a library: `import { scan, enqueue } from 'datawarden'`.

// Scanning in this process. planScan / checkRange / completeScan are the phases scan() runs; a
// caller can check row ranges separately (on other machines) and fold their results.
export { scan, planScan, checkRange, completeScan, DEFAULT_SEED } from './pipeline/scan.js';
export type { ScanOptions, ScanResult, ScanPlan, PlanOptions, RangeResult } from './pipeline/scan.js';
export type { Report, Verdict, CheckReport } from './pipeline/report.js';
export { EXIT_CODES } from './pipeline/report.js';
export { loadContract, type LoadedContract } from './contract/load.js';
export type { RowRange } from './io/source.js';
export type { Format } from './io/formats.js';
export { InputError, isInputError } from './core/errors.js';

// Fitting detector models: fit once on trusted data, save, and pass to scans as `model` or `modelPath`.
export { fit, loadModel, saveModel, DEFAULT_FIT_ROWS } from './pipeline/fit.js';
export type { FitRequest, FittedModel } from './pipeline/fit.js';

// Queue mode: scans as jobs on Redis, split across workers.
export {
  ScanQueue,
  enqueue,
  scanStatus,
  waitForScan,
  exitCodeOf,
  startWorker,
  syncSchedules,
  listSchedules,
  loadAuditJobs,
  verifyWebhookSignature,
  webhookSignature,
  SIGNATURE_HEADER,
} from './queue/index.js';
export type {
  EnqueuedScan,
  ScanJobStatus,
  ScanQueueOptions,
  ScanRequest,
  ScanSummary,
  ScanWorker,
  StartWorkerOptions,
  WaitOptions,
  WebhookOutcome,
  AuditJob,
  ScheduleInfo,
  SyncResult,
  ConnectionSettings,
  JobSettings,
} from './queue/index.js';
