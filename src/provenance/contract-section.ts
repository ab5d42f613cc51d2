// The contract's `provenance` section: which keys are trusted, which sources are allowed, whether
// a manifest is required and how old it may be. Validation names the field at fault.
import { isAbsolute, resolve } from 'node:path';
import type { Contract } from '../core/contract.js';
import { InputError } from '../core/errors.js';
import { DURATION_HELP, parseDuration } from './units.js';

export interface ProvenanceSection {
  /** Public key files or directories of `*.pub` files, relative to the contract file. */
  readonly trustedKeys?: readonly string[];
  /** Source ids a manifest or a row's source column may name. Absent: any source. */
  readonly allowedSources?: readonly string[];
  /** Fail the scan when no manifest is given. Default false. */
  readonly requireManifest?: boolean;
  /** Reject manifests created longer ago than this duration ("7d", "12h"). */
  readonly maxManifestAge?: string;
  /** Columns left out of replay fingerprints besides the contract's id and source columns (e.g. an ingestion time). */
  readonly replayIgnore?: readonly string[];
  /** The audit log scans under this contract append to, relative to the contract file. */
  readonly auditLog?: string;
}

/** The section with paths resolved and the duration parsed. */
export interface ResolvedProvenance {
  readonly trustedKeys: readonly string[];
  readonly allowedSources: readonly string[] | null;
  readonly requireManifest: boolean;
  readonly maxManifestAgeMs: number | null;
  readonly replayIgnore: readonly string[];
  readonly auditLog: string | null;
}

const FIELDS = new Set(['trustedKeys', 'allowedSources', 'requireManifest', 'maxManifestAge', 'replayIgnore', 'auditLog']);

function stringListErrors(value: unknown, field: string, errors: string[]): void {
  if (value === undefined) return;
  if (!Array.isArray(value)) {
    errors.push(`${field}: expected a list of strings`);
    return;
  }
  value.forEach((item, index) => {
    if (typeof item !== 'string' || item.trim() === '') errors.push(`${field}[${index}]: expected a non-empty string`);
  });
}

/** Every problem with a provenance section, each starting with its field path; empty when valid. */
export function validateProvenanceSection(value: unknown, prefix = 'provenance'): string[] {
  const errors: string[] = [];
  if (value === undefined) return errors;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${prefix}: expected an object`];
  const section = value as Record<string, unknown>;
  for (const key of Object.keys(section)) {
    if (!FIELDS.has(key)) errors.push(`${prefix}.${key}: unknown field (expected one of ${[...FIELDS].join(', ')})`);
  }
  stringListErrors(section.trustedKeys, `${prefix}.trustedKeys`, errors);
  stringListErrors(section.allowedSources, `${prefix}.allowedSources`, errors);
  stringListErrors(section.replayIgnore, `${prefix}.replayIgnore`, errors);
  if (section.auditLog !== undefined && (typeof section.auditLog !== 'string' || section.auditLog.trim() === '')) {
    errors.push(`${prefix}.auditLog: expected a file path`);
  }
  if (section.requireManifest !== undefined && typeof section.requireManifest !== 'boolean') {
    errors.push(`${prefix}.requireManifest: expected true or false`);
  }
  if (section.maxManifestAge !== undefined && (typeof section.maxManifestAge !== 'string' || parseDuration(section.maxManifestAge) === null)) {
    errors.push(`${prefix}.maxManifestAge: expected ${DURATION_HELP}, got ${JSON.stringify(section.maxManifestAge)}`);
  }
  if (section.requireManifest === true && (!Array.isArray(section.trustedKeys) || section.trustedKeys.length === 0)) {
    errors.push(`${prefix}.trustedKeys: requireManifest needs at least one trusted key`);
  }
  return errors;
}

/**
 * Validates a provenance section and resolves its key paths against `baseDir` (the contract
 * file's directory). Throws InputError naming the first bad field.
 */
export function resolveProvenance(value: unknown, baseDir: string, subject?: string): ResolvedProvenance {
  const errors = validateProvenanceSection(value);
  if (errors.length > 0) {
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
    throw new InputError(`${errors[0]}${more}`, subject === undefined ? {} : { subject });
  }
  const section = (value ?? {}) as ProvenanceSection;
  return {
    trustedKeys: (section.trustedKeys ?? []).map((path) => (isAbsolute(path) ? path : resolve(baseDir, path))),
    allowedSources: section.allowedSources ? [...section.allowedSources] : null,
    requireManifest: section.requireManifest ?? false,
    maxManifestAgeMs: section.maxManifestAge === undefined ? null : parseDuration(section.maxManifestAge),
    replayIgnore: section.replayIgnore ?? [],
    auditLog: section.auditLog === undefined ? null : isAbsolute(section.auditLog) ? section.auditLog : resolve(baseDir, section.auditLog),
  };
}

/** The contract's section, resolved against the working directory (checks need no key paths). */
export function contractProvenance(contract: Contract): ResolvedProvenance {
  return resolveProvenance(contract.provenance, process.cwd(), `contract '${contract.name}'`);
}
