// Queue mode: scans as BullMQ jobs on Redis, split across workers by row range.
export { ScanQueue, enqueue, scanStatus, waitForScan, withScanQueue, exitCodeOf } from './client.js';
export type { EnqueuedScan, ScanJobStatus, ScanQueueOptions, WaitOptions } from './client.js';
export type { ScanRequest, ScanSummary, WebhookOutcome } from './jobs.js';
export { startWorker, type ScanWorker, type StartWorkerOptions } from './worker.js';
export { loadAuditJob, loadAuditJobs, listSchedules, syncSchedules } from './schedules.js';
export type { AuditJob, AuditJobFile, ScheduleInfo, SyncResult } from './schedules.js';
export { SIGNATURE_HEADER, verifyWebhookSignature, webhookSignature } from './webhook.js';
export { connectionSettings, jobSettings, parseKeep, workerSettings, QUEUE_NAME } from './settings.js';
export type { ConnectionSettings, JobSettings, KeepJobs, WorkerSettings } from './settings.js';
