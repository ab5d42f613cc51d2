// datawarden audit verify: check that the scan audit log's hash chain is intact.
import { defaultAuditLogPath, verifyAuditLog } from '../../provenance/audit-log.js';
import { EXIT, stringOption, type Command } from '../command.js';

export const auditVerifyCommand: Command = {
  name: 'audit verify',
  summary: 'Check the scan audit log for edited, removed, inserted or reordered records',
  usage: 'audit verify [--log FILE]',
  positionals: [0, 0],
  options: {
    log: { type: 'string', help: 'the audit log (default: $DATAWARDEN_AUDIT_LOG, else runs/audit.jsonl)' },
    json: { type: 'boolean', help: 'print the result as JSON' },
  },
  details: `Prints the number of records and the head hash. The chain proves the records follow one
another unchanged; keep the head hash somewhere else (a CI log, a ticket) to also detect a log
rewritten from the start. Exit codes: 0 intact, 2 tampered, 3 unreadable.`,
  async run(_positionals, values, { log, stdout }) {
    const path = stringOption(values, 'log') ?? defaultAuditLogPath();
    const result = await verifyAuditLog(path);
    log.info({ log: path, ok: result.ok, records: result.records, problem: result.problem }, 'audit log verified');
    if (values.json) {
      stdout.write(`${JSON.stringify({ log: path, ...result }, null, 2)}\n`);
    } else if (result.ok) {
      stdout.write(`INTACT: ${path}: ${result.records} records, head ${result.head ?? '(empty log)'}\n`);
    } else {
      const problem = result.problem!;
      stdout.write(`TAMPERED: ${path}: line ${problem.line} (${problem.kind}): ${problem.message}\n`);
    }
    return result.ok ? EXIT.pass : EXIT.fail;
  },
};
