import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DatasetFinding, Severity } from '../../src/core/types.js';
import { decideVerdict } from '../../src/pipeline/report.js';

const gate = { pass: 0.01, warn: 0.05 };
const finding = (severity: Severity, code = `x:${severity}`): DatasetFinding => ({ check: 'x', code, severity, message: `a ${severity} finding` });

test('the verdict: the quarantined share against the gate, raised by warn and fail findings, never by info', () => {
  const cases: { fraction: number; findings: DatasetFinding[]; verdict: string; reasons: string[] }[] = [
    { fraction: 0, findings: [], verdict: 'pass', reasons: ['0.00% of rows quarantined, within the pass limit of 1.00%'] },
    { fraction: 0.02, findings: [], verdict: 'warn', reasons: ['2.00% of rows quarantined, above the pass limit of 1.00%'] },
    { fraction: 0.06, findings: [], verdict: 'fail', reasons: ['6.00% of rows quarantined, above the warn limit of 5.00%'] },
    { fraction: 0, findings: [finding('info')], verdict: 'pass', reasons: ['0.00% of rows quarantined, within the pass limit of 1.00%'] },
    { fraction: 0, findings: [finding('info'), finding('warn')], verdict: 'warn', reasons: ['0.00% of rows quarantined, within the pass limit of 1.00%', 'warn: a warn finding'] },
    { fraction: 0.02, findings: [finding('fail'), finding('info')], verdict: 'fail', reasons: ['2.00% of rows quarantined, above the pass limit of 1.00%', 'fail: a fail finding'] },
  ];
  for (const c of cases) {
    assert.deepEqual(decideVerdict(c.fraction, gate, c.findings), { verdict: c.verdict, reasons: c.reasons }, JSON.stringify(c.findings.map((f) => f.severity)));
  }
});
