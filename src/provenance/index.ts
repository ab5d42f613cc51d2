// Provenance: signed manifests, trusted keys, the contract's provenance section, the audit log,
// per-source statistics and replay memory.
export { canonicalJson, type JsonValue } from './canonical-json.js';
export { parseDuration, parseByteSize } from './units.js';
export { keyId, writeKeyPair, loadSigningKey, loadTrustedKeys, type SigningKey, type TrustedKey, type TrustedKeys, type KeyPairFiles } from './keys.js';
export { digestFile, DEFAULT_CHUNK_BYTES, type FileDigest } from './file-hash.js';
export {
  MANIFEST_FORMAT,
  createManifest,
  signManifest,
  manifestSigningBytes,
  formatManifest,
  parseManifest,
  validateManifest,
  verifyManifest,
  type Manifest,
  type ManifestDataset,
  type ManifestFailure,
  type ManifestFailureKind,
  type ManifestVerification,
  type CreateManifestOptions,
  type VerifyManifestOptions,
} from './manifest.js';
export { validateProvenanceSection, resolveProvenance, contractProvenance, type ProvenanceSection, type ResolvedProvenance } from './contract-section.js';
export { provenanceFindings, PROVENANCE_CHECK, PROVENANCE_REASONS, type ProvenanceFindingsOptions } from './findings.js';
export { SourceStats, cellKey, ALL_SOURCES, NULL_KEY, OTHER_SOURCES, type SourceSummary, type SourceStatsJson, type RowHit } from './source-stats.js';
export {
  appendAuditRecord,
  verifyAuditLog,
  auditRecordHash,
  defaultAuditLogPath,
  type AuditEntry,
  type AuditRecord,
  type AuditVerdict,
  type AuditVerification,
  type AuditProblemKind,
} from './audit-log.js';
export { withFileLock, type LockOptions } from './file-lock.js';
export { RowFingerprinter, fingerprintSpec, fingerprintRows, fingerprintHex, FINGERPRINT_BYTES, type FingerprintSpec, type BatchFingerprints, type RowFingerprint } from './row-fingerprint.js';
export { FileReplayStore, MemoryReplayStore, REPLAY_FORMAT, SEEN_KEY_BYTES, type ReplayStore, type KnownBadEntry, type KnownBadMeta } from './replay-store.js';
export { RedisReplayStore, REDIS_MEMORY_SCHEME } from './redis-replay-store.js';
export { isRedisMemory, openReplayStore } from './replay-memory.js';
