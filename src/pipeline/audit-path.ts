import { dirname, join, resolve } from 'node:path';
import type { LoadedContract } from '../contract/load.js';
import { resolveProvenance } from '../provenance/contract-section.js';

/**
 * The audit log a scan appends to when none is named: the contract's provenance.auditLog, else
 * DATAWARDEN_AUDIT_LOG, else audit.jsonl in the output directory's parent. The CLI and queue
 * workers decide it the same way.
 */
export function defaultAuditLog(outDir: string, contract: LoadedContract, env: NodeJS.ProcessEnv = process.env): string {
  const fromContract = resolveProvenance(contract.contract.provenance, dirname(contract.path)).auditLog;
  return fromContract ?? env.DATAWARDEN_AUDIT_LOG ?? join(dirname(resolve(outDir)), 'audit.jsonl');
}
