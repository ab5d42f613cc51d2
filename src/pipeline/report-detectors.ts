// The detectors' part of report.md: what the model was fitted on, each detector's threshold and
// what it flagged, the triggers found, the label classes and each column's drift. Everything
// comes from the check summaries and the model section that report.json carries.
import type { CheckReport, Report } from './report.js';

const DETECTORS = ['outlier', 'label_flip', 'trigger', 'drift'] as const;

interface ModelSection {
  readonly sha256: string;
  readonly source: 'given' | 'file' | 'baseline' | 'input';
  readonly path?: string;
  readonly seed: number;
  readonly sampleRows: number;
}

interface TriggerRow {
  readonly reason: string;
  readonly label: string;
  readonly rows: number;
  readonly share: number;
  readonly baselineShare: number;
  readonly lift: number;
  readonly purity: number;
}

interface ClassBalance {
  readonly totalVariation: number;
  readonly pValue?: number;
  readonly baselineShares: Readonly<Record<string, number>>;
  readonly observedShares: Readonly<Record<string, number>>;
}

interface DriftColumn {
  readonly kind: 'numeric' | 'categorical';
  readonly rows: number;
  readonly psi: number;
  readonly js: number;
  readonly linf: number;
  readonly pValue?: number;
  readonly severity: 'ok' | 'warn' | 'fail' | null;
  readonly withinChance?: boolean;
}

type WarnFail = { readonly warn: number; readonly fail: number };

/** A value as a table cell: a `|` in a name would end the cell. */
const cell = (text: string) => text.replaceAll('|', '\\|');
const percent = (x: number, digits = 2) => `${(x * 100).toFixed(digits)}%`;
const figure = (x: unknown, digits = 3) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : '-');
/** A p-value: small ones in exponent form, so that 1e-12 and 0.003 both read. */
const probability = (p: unknown) => (typeof p !== 'number' ? '-' : p >= 0.001 ? p.toFixed(3) : p === 0 ? '0' : p.toExponential(1));

export function detectorLines(report: Report): string[] {
  const checks = new Map(report.checks.map((check) => [check.id, check]));
  const present = DETECTORS.map((id) => checks.get(id)).filter((check): check is CheckReport => check !== undefined);
  if (present.length === 0) return [];
  const lines = ['', '## Detectors', ''];
  const model = report.model as ModelSection | undefined;
  if (model) lines.push(fittedOn(model), '');
  lines.push('| detector | rows flagged | figures |', '|---|---:|---|');
  for (const check of present) {
    lines.push(`| ${check.id} | ${check.flaggedRows} (${percent(check.flaggedRows / Math.max(1, report.input.rows))}) | ${figures(check)} |`);
  }
  const summary = (id: string) => checks.get(id)?.summary;
  lines.push(...triggerLines(summary('trigger')), ...classLines(summary('label_flip')), ...driftLines(summary('drift')));
  return lines;
}

function fittedOn(model: ModelSection): string {
  const about = `${model.sampleRows} rows sampled, seed ${model.seed}; model sha256 \`${model.sha256.slice(0, 16)}…\``;
  const named = model.path === undefined ? '' : ` \`${model.path}\``;
  switch (model.source) {
    case 'baseline':
      return `Fitted on the baseline${named} (${about}).`;
    case 'file':
      return `${model.path === undefined ? 'A saved model' : `Model${named}`} (${about}).`;
    case 'input':
      return `Fitted on a sample of this input itself (${about}): drift and triggers have no trusted data to compare with.`;
    case 'given':
      return `Model given by the caller (${about}).`;
  }
}

function figures(check: CheckReport): string {
  const s = (check.summary ?? {}) as Record<string, unknown>;
  if (typeof s.skipped === 'string') return `skipped: ${s.skipped}`;
  switch (check.id) {
    case 'outlier':
      return `isolation-forest score above ${figure(s.threshold)} (${s.trees} trees, psi ${s.sampleSize}); highest score ${figure(s.maxScore)}`;
    case 'label_flip': {
      const parts = [];
      if (typeof s.fitFlaggedShare === 'number') parts.push(`out of fold, the rule flags ${percent(s.fitFlaggedShare, 1)} of the rows the model was fitted on`);
      const balance = s.classBalance as ClassBalance | undefined;
      if (balance) parts.push(`class balance moved by ${figure(balance.totalVariation)} (total variation; chi-square p ${probability(balance.pValue)})`);
      if (typeof s.outOfFoldRows === 'number' && s.outOfFoldRows > 0) parts.push(`${s.outOfFoldRows} rows judged out of fold`);
      return parts.join('; ') || '-';
    }
    case 'trigger': {
      const found = (s.triggers as readonly TriggerRow[] | undefined)?.length ?? 0;
      const suppressed = (s.suppressedColumns as readonly { column: string; candidates: number }[] | undefined) ?? [];
      const left =
        suppressed.length > 0
          ? `; columns with too many candidates to be a trigger, left to drift: ${suppressed.map((c) => `\`${c.column}\` (${c.candidates})`).join(', ')}`
          : '';
      return `${found === 0 ? 'none found' : `${found} found (below)`}${left}`;
    }
    case 'drift': {
      const columns = Object.values((s.columns ?? {}) as Record<string, DriftColumn>);
      const drifted = columns.filter((c) => c.severity === 'warn' || c.severity === 'fail').length;
      return `${drifted} of ${columns.length} columns drifted (below); quarantines no rows`;
    }
  }
  return '-';
}

function triggerLines(summary: Readonly<Record<string, unknown>> | undefined): string[] {
  const triggers = (summary?.triggers as readonly TriggerRow[] | undefined) ?? [];
  if (triggers.length === 0) return [];
  return [
    '',
    '### Suspected backdoor triggers',
    '',
    '| trigger | label | rows | share of labelled rows | share in the baseline | lift | label purity |',
    '|---|---|---:|---:|---:|---:|---:|',
    ...triggers.map((t) => `| \`${cell(t.reason)}\` | ${cell(t.label)} | ${t.rows} | ${percent(t.share)} | ${percent(t.baselineShare)} | ${figure(t.lift, 1)} | ${figure(t.purity)} |`),
  ];
}

function classLines(summary: Readonly<Record<string, unknown>> | undefined): string[] {
  const thresholds = summary?.thresholds as Readonly<Record<string, number>> | undefined;
  const balance = summary?.classBalance as ClassBalance | undefined;
  if (!thresholds || !balance) return [];
  return [
    '',
    '### Label classes',
    '',
    'A row is a suspected flip when another class reaches its threshold and beats the given label.',
    '',
    '| class | threshold | share of the trusted sample | share of this input |',
    '|---|---:|---:|---:|',
    ...Object.entries(thresholds).map(
      ([label, threshold]) => `| ${cell(label)} | ${figure(threshold)} | ${percent(balance.baselineShares[label] ?? 0, 1)} | ${percent(balance.observedShares[label] ?? 0, 1)} |`,
    ),
  ];
}

function driftLines(summary: Readonly<Record<string, unknown>> | undefined): string[] {
  const columns = Object.entries((summary?.columns ?? {}) as Record<string, DriftColumn>);
  if (columns.length === 0) return [];
  const limits = summary?.thresholds as { psi: WarnFail; js: WarnFail; linf: WarnFail; alpha: number } | undefined;
  const lines = ['', '### Drift', ''];
  const judged = columns.filter(([, c]) => c.severity !== null).length;
  if (limits) {
    lines.push(
      `Warn / fail at PSI ${limits.psi.warn} / ${limits.psi.fail} for numeric columns; Jensen-Shannon distance ${limits.js.warn} / ${limits.js.fail} or largest share change ${limits.linf.warn} / ${limits.linf.fail} for categorical ones; counted only when the chi-square p-value is below ${limits.alpha} / ${judged} columns judged (else "within chance").`,
      '',
    );
  }
  lines.push(
    '| column | kind | rows | PSI | Jensen-Shannon distance | largest share change | chi-square p | verdict |',
    '|---|---|---:|---:|---:|---:|---:|---|',
    ...columns.map(([name, c]) => `| ${cell(name)} | ${c.kind} | ${c.rows} | ${figure(c.psi)} | ${figure(c.js)} | ${figure(c.linf)} | ${probability(c.pValue)} | ${verdict(c)} |`),
  );
  return lines;
}

function verdict(column: DriftColumn): string {
  if (column.severity === null) return 'too few rows';
  if (column.severity !== 'ok') return `**${column.severity}**`;
  return column.withinChance ? 'ok (within chance)' : 'ok';
}
