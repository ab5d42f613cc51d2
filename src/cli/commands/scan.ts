import { loadContract } from '../../contract/load.js';
import { defaultAuditLog } from '../../pipeline/audit-path.js';
import { parseFormat } from '../../io/formats.js';
import { scan } from '../../pipeline/scan.js';
import { numberOption, stringOption, UsageError, type Command } from '../command.js';
import { createProgress } from '../progress.js';


export const scanCommand: Command = {
  name: 'scan',
  summary: 'Check a dataset against its contract; write clean and quarantine sets and a report',
  usage: 'scan <dataset> --contract FILE --out DIR [options]',
  positionals: [1, 1],
  options: {
    contract: { type: 'string', help: 'the contract (schemas/<name>.contract.json)' },
    out: { type: 'string', help: 'output directory for clean.<ext>, quarantine.<ext>, report.json, report.md' },
    format: { type: 'string', help: 'output format: parquet, arrow, arrows, csv or jsonl (default: the input\'s)' },
    checks: { type: 'string', help: 'run only these checks, comma-separated (e.g. schema,range)' },
    seed: { type: 'string', help: 'seed for every randomised step (default 42)' },
    model: { type: 'string', help: 'a model bundle from `datawarden fit` for the detectors (never refit)' },
    baseline: { type: 'string', help: 'trusted data to fit the detectors on first (default: a sample of the input itself)' },
    'fit-rows': { type: 'string', help: 'rows sampled to fit on (default 100000)' },
    'emit-scores': { type: 'boolean', help: 'also write scores.<ext>: _row, outlier_score, label_score for every row' },
    'batch-rows': { type: 'string', help: 'rows per batch (default 65536; 16384 for CSV and JSON Lines)' },
    json: { type: 'boolean', help: 'also print report.json to stdout' },
    manifest: { type: 'string', help: "a signed manifest to verify before any row is released (see the contract's provenance section)" },
    memory: { type: 'string', help: 'replay memory (a file, or redis:<name> to keep it in Redis): flag rows matching known-bad fingerprints, remember this dataset' },
    'audit-log': { type: 'string', help: "append a record of this scan here (default: the contract's provenance.auditLog, DATAWARDEN_AUDIT_LOG, else audit.jsonl beside --out)" },
    'no-audit': { type: 'boolean', help: 'do not append to an audit log' },
  },
  details: `Checks: schema, range, label, duplicate, source (rules); outlier, label_flip, trigger, drift
(detectors, fitted on --baseline, loaded from --model, or fitted on a sample of the input).
Exit codes: 0 pass, 1 warn, 2 fail, 3 error. The verdict compares the quarantined fraction
with the contract's gate and is raised by dataset-level findings (a missing column fails).
Outputs are written under temporary names and renamed when complete; report.json is renamed last.`,
  async run([input], values, { log, stdout }) {
    const contractPath = stringOption(values, 'contract');
    const outDir = stringOption(values, 'out');
    if (!contractPath) throw new UsageError('--contract is required');
    if (!outDir) throw new UsageError('--out is required');
    if (values.model && values.baseline) throw new UsageError('give --model or --baseline, not both');
    const format = stringOption(values, 'format');
    const checks = stringOption(values, 'checks')?.split(',').map((s) => s.trim()).filter(Boolean);
    const contract = await loadContract(contractPath);
    const progress = createProgress();
    log.info({ input, contract: contractPath, outDir }, 'scan started');
    const { report, reportPath } = await scan({
      input: input!,
      contract,
      outDir,
      format: format ? parseFormat(format) : undefined,
      checks,
      seed: numberOption(values, 'seed'),
      modelPath: stringOption(values, 'model'),
      baseline: stringOption(values, 'baseline'),
      fitRows: numberOption(values, 'fit-rows'),
      emitScores: values['emit-scores'] === true,
      batchRows: numberOption(values, 'batch-rows'),
      manifest: stringOption(values, 'manifest'),
      memory: stringOption(values, 'memory'),
      auditLog: values['no-audit'] ? undefined : (stringOption(values, 'audit-log') ?? defaultAuditLog(outDir, contract)),
      onProgress: (done, total) => progress.update(done, total),
    }).finally(() => progress.done());
    log.info({ verdict: report.verdict, quarantined: report.quarantine.rows, rows: report.input.rows, timings: report.timings }, 'scan finished');
    if (values.json) {
      stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      stdout.write(
        `${report.verdict.toUpperCase()}: ${report.quarantine.rows} of ${report.input.rows} rows quarantined ` +
          `(${(report.quarantine.fraction * 100).toFixed(2)}%) against contract ${report.contract.name}\n` +
          report.checks.filter((c) => c.flaggedRows > 0).map((c) => `  ${c.id}: ${c.flaggedRows} rows\n`).join('') +
          report.findings.map((f) => `  ${f.severity}: ${f.code}: ${f.message}\n`).join('') +
          `report: ${reportPath}\n`,
      );
    }
    return report.exitCode;
  },
};
