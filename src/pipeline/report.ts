// The integrity report: what was scanned against what, what each check flagged, and the verdict
// an ETL step gates on. report.json follows schemas/report.schema.json; report.md summarises it.
import type { Gate } from '../core/contract.js';
import type { InputColumn } from '../core/check.js';
import type { DatasetFinding } from '../core/types.js';
import { detectorLines } from './report-detectors.js';

export type Verdict = 'pass' | 'warn' | 'fail';

export const EXIT_CODES: Record<Verdict, number> = { pass: 0, warn: 1, fail: 2 };

export interface CheckReport {
  readonly id: string;
  readonly description: string;
  /** Rows this check flagged (a row with two reasons from one check counts once). */
  readonly flaggedRows: number;
  /** Rows per reason code. */
  readonly reasons: Record<string, number>;
  readonly summary?: Readonly<Record<string, unknown>>;
}

export interface Report {
  readonly reportVersion: 1;
  readonly tool: { readonly name: 'datawarden'; readonly version: string };
  readonly createdAt: string;
  readonly input: {
    readonly path: string;
    readonly format: string;
    readonly sha256: string;
    readonly bytes: number;
    readonly rows: number;
    readonly declaredRows: number | null;
    readonly columns: readonly InputColumn[];
  };
  readonly contract: { readonly name: string; readonly path: string; readonly sha256: string };
  readonly options: { readonly checks: readonly string[]; readonly seed: number; readonly outputFormat: string };
  readonly checks: readonly CheckReport[];
  readonly findings: readonly DatasetFinding[];
  readonly quarantine: { readonly rows: number; readonly fraction: number };
  readonly clean: { readonly rows: number };
  readonly gate: Gate;
  readonly verdict: Verdict;
  /** Why the verdict is what it is, one sentence each. */
  readonly verdictReasons: readonly string[];
  readonly exitCode: number;
  /** Wall time of the whole scan (the input is hashed alongside). */
  readonly timings: { readonly totalMs: number };
  readonly outputs: { readonly clean: string; readonly quarantine: string; readonly reportMarkdown: string };
  /** Sections added by later stages (detectors, provenance, per-source breakdowns). */
  readonly [section: string]: unknown;
}

/** The verdict from the quarantined fraction against the gate, raised by dataset-level findings. */
export function decideVerdict(
  fraction: number,
  gate: Gate,
  findings: readonly DatasetFinding[],
): { verdict: Verdict; reasons: string[] } {
  const reasons: string[] = [];
  let verdict: Verdict = 'pass';
  const raise = (to: Verdict) => {
    if (EXIT_CODES[to] > EXIT_CODES[verdict]) verdict = to;
  };
  const percent = (x: number) => `${(x * 100).toFixed(2)}%`;
  if (fraction > gate.warn) {
    raise('fail');
    reasons.push(`${percent(fraction)} of rows quarantined, above the warn limit of ${percent(gate.warn)}`);
  } else if (fraction > gate.pass) {
    raise('warn');
    reasons.push(`${percent(fraction)} of rows quarantined, above the pass limit of ${percent(gate.pass)}`);
  } else {
    reasons.push(`${percent(fraction)} of rows quarantined, within the pass limit of ${percent(gate.pass)}`);
  }
  for (const finding of findings) {
    if (finding.severity === 'info') continue;
    raise(finding.severity);
    reasons.push(`${finding.severity}: ${finding.message}`);
  }
  return { verdict, reasons };
}

/** A short human summary of the report. */
export function reportMarkdown(report: Report): string {
  const lines = [
    `# datawarden scan: ${report.verdict.toUpperCase()}`,
    '',
    `- Input: \`${report.input.path}\` (${report.input.format}, ${report.input.rows} rows, sha256 \`${report.input.sha256.slice(0, 16)}…\`)`,
    `- Contract: ${report.contract.name} (\`${report.contract.path}\`)`,
    `- Quarantined: ${report.quarantine.rows} rows (${(report.quarantine.fraction * 100).toFixed(2)}%); clean: ${report.clean.rows} rows`,
    `- Gate: pass at most ${(report.gate.pass * 100).toFixed(2)}%, warn at most ${(report.gate.warn * 100).toFixed(2)}%`,
    '',
    '## Why',
    '',
    ...report.verdictReasons.map((reason) => `- ${reason}`),
    '',
    '## Checks',
    '',
    '| check | rows flagged | reasons |',
    '|---|---:|---|',
    ...report.checks.map((check) => {
      const reasons = Object.entries(check.reasons)
        .sort((a, b) => b[1] - a[1])
        .map(([code, rows]) => `\`${code}\` ${rows}`)
        .join(', ');
      return `| ${check.id} | ${check.flaggedRows} | ${reasons || '-'} |`;
    }),
  ];
  if (report.findings.length > 0) {
    lines.push('', '## Dataset findings', '', ...report.findings.map((f) => `- **${f.severity}** \`${f.code}\`: ${f.message}`));
  }
  lines.push(...detectorLines(report), ...sourceLines(report));
  lines.push(
    '',
    `Clean rows: \`${report.outputs.clean}\`. Quarantined rows, with \`_row\` and \`_reasons\`: \`${report.outputs.quarantine}\`.`,
    '',
  );
  return lines.join('\n');
}

interface SourcesSection {
  readonly sourceColumn: string | null;
  readonly sources: Readonly<Record<string, { rows: number; quarantined: number; reasons: Record<string, number>; labels: Record<string, { rows: number }> }>>;
}

/** Quarantine rate, top reasons and class balance per source, so one bad feed stands out by name. */
function sourceLines(report: Report): string[] {
  const section = report.sources as SourcesSection | undefined;
  if (!section?.sourceColumn) return [];
  const rows = Object.entries(section.sources).sort((a, b) => b[1].quarantined / Math.max(1, b[1].rows) - a[1].quarantined / Math.max(1, a[1].rows));
  return [
    '',
    `## By source (\`${section.sourceColumn}\`)`,
    '',
    '| source | rows | quarantined | top reasons | labels |',
    '|---|---:|---:|---|---|',
    ...rows.map(([name, s]) => {
      const reasons = Object.entries(s.reasons).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([code, n]) => `\`${code}\` ${n}`).join(', ');
      const labels = Object.entries(s.labels).map(([label, counts]) => `${label}: ${((counts.rows / Math.max(1, s.rows)) * 100).toFixed(0)}%`).join(', ');
      return `| ${name} | ${s.rows} | ${s.quarantined} (${((s.quarantined / Math.max(1, s.rows)) * 100).toFixed(1)}%) | ${reasons || '-'} | ${labels || '-'} |`;
    }),
  ];
}
