// Turns manifest verification into dataset findings for the scan: any provenance failure fails
// the scan and holds every row, because no row of an unproven file may reach the clean set.
import type { DatasetFinding } from '../core/types.js';
import { resolveProvenance } from './contract-section.js';
import { verifyManifest, type ManifestFailure, type ManifestFailureKind } from './manifest.js';

export const PROVENANCE_CHECK = 'provenance';

/** Reason codes provenance findings carry, with what each means. */
export const PROVENANCE_REASONS: Readonly<Record<`provenance:${ManifestFailureKind}`, string>> = {
  'provenance:missing': 'the contract requires a manifest and none was given',
  'provenance:malformed': 'the manifest is not valid JSON or a field is missing or wrong',
  'provenance:signer': 'the manifest was signed by a key the contract does not trust',
  'provenance:signature': 'the manifest signature does not verify (the manifest was edited or forged)',
  'provenance:expired': 'the manifest is past its expiresAt, older than maxManifestAge, or dated in the future',
  'provenance:source': "the manifest's source (or a row's source) is not in allowedSources",
  'provenance:size': 'the dataset size differs from the manifest',
  'provenance:hash': "the dataset's sha256 differs from the manifest",
  'provenance:chunk': 'a byte range (chunk) of the dataset differs from the manifest',
  'provenance:rows': 'the dataset row count differs from the manifest',
};

export interface ProvenanceFindingsOptions {
  /** The contract's `provenance` section as loaded (validated here). */
  readonly provenance: unknown;
  /** The directory the section's relative key paths resolve against: the contract file's. */
  readonly contractDir: string;
  readonly datasetPath: string;
  readonly manifestPath?: string;
  /** See VerifyManifestOptions.rowCount. */
  readonly rowCount?: number | ((datasetPath: string) => Promise<number>);
  readonly now?: Date;
}

function finding(failure: Pick<ManifestFailure, 'kind' | 'message'>, details: Record<string, unknown>): DatasetFinding {
  return {
    check: PROVENANCE_CHECK,
    code: `provenance:${failure.kind}`,
    severity: 'fail',
    message: failure.message,
    holdAllRows: true,
    details,
  };
}

/**
 * Verifies the dataset's provenance as the contract demands. Returns no findings when the section
 * is absent and no manifest is given; a manifest given without trusted keys cannot be verified
 * and is a `provenance:signer` finding. Unreadable files and a bad section throw InputError.
 */
export async function provenanceFindings(options: ProvenanceFindingsOptions): Promise<DatasetFinding[]> {
  const section = resolveProvenance(options.provenance, options.contractDir, 'contract');
  if (options.manifestPath === undefined) {
    return section.requireManifest
      ? [finding({ kind: 'missing', message: 'the contract requires a signed manifest (provenance.requireManifest) and none was given' }, {})]
      : [];
  }
  if (section.trustedKeys.length === 0) {
    return [finding({ kind: 'signer', message: 'a manifest was given but the contract lists no provenance.trustedKeys to verify it with' }, { manifest: options.manifestPath })];
  }
  const result = await verifyManifest({
    manifestPath: options.manifestPath,
    datasetPath: options.datasetPath,
    trusted: section.trustedKeys,
    ...(section.maxManifestAgeMs !== null ? { maxAgeMs: section.maxManifestAgeMs } : {}),
    ...(section.allowedSources !== null ? { allowedSources: section.allowedSources } : {}),
    ...(options.rowCount !== undefined ? { rowCount: options.rowCount } : {}),
    ...(options.now !== undefined ? { now: options.now } : {}),
  });
  return result.failures.map((failure) =>
    finding(failure, {
      manifest: options.manifestPath,
      ...(result.manifest ? { source: result.manifest.source, signer: result.manifest.signer } : {}),
      ...(failure.chunk !== undefined ? { chunk: failure.chunk, range: failure.range } : {}),
      ...(failure.field !== undefined ? { field: failure.field } : {}),
    }),
  );
}
