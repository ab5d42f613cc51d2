import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, writeFile, stat, utimes } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { auditVerifyCommand } from '../../src/cli/commands/audit.js';
import { InputError } from '../../src/core/errors.js';
import { appendAuditRecord, auditRecordHash, verifyAuditLog, type AuditEntry, type AuditRecord } from '../../src/provenance/audit-log.js';
import { tempDir } from './helpers.js';

const hex = (n: number): string => n.toString(16).padStart(64, '0');

function entry(n: number, verdict: AuditEntry['verdict'] = 'pass'): AuditEntry {
  return { toolVersion: '0.1.0', inputSha256: hex(n), contractSha256: hex(100), modelSha256: n % 2 ? hex(200) : null, reportSha256: hex(300 + n), verdict, counts: { rows: 10 * n, clean: 9 * n, quarantined: n } };
}

/** A log of `n` good records; returns its path and lines. */
async function goodLog(n: number): Promise<{ path: string; lines: string[] }> {
  const path = join(await tempDir(), 'runs', 'audit.jsonl');
  for (let i = 1; i <= n; i++) await appendAuditRecord(path, entry(i), { now: new Date(Date.UTC(2024, 4, i)) });
  return { path, lines: (await readFile(path, 'utf8')).trimEnd().split('\n') };
}

describe('appendAuditRecord', () => {
  it('chains records: seq counts up, prev is the previous hash, hash covers the rest', async () => {
    const { lines } = await goodLog(3);
    const records = lines.map((line) => JSON.parse(line) as AuditRecord);
    assert.deepEqual(records.map((r) => r.seq), [1, 2, 3]);
    assert.deepEqual(records.map((r) => r.prev), [null, records[0]!.hash, records[1]!.hash]);
    for (const record of records) assert.equal(auditRecordHash(record), record.hash);
    assert.equal(records[1]!.time, '2024-05-02T00:00:00.000Z');
    assert.deepEqual(records[1]!.counts, { rows: 20, clean: 18, quarantined: 2 });
  });

  it('rejects an entry with a bad hash or verdict', async () => {
    const path = join(await tempDir(), 'audit.jsonl');
    await assert.rejects(appendAuditRecord(path, { ...entry(1), inputSha256: 'abc' }), /inputSha256: expected a hex sha256/);
    await assert.rejects(appendAuditRecord(path, { ...entry(1), verdict: 'ok' as never }), /verdict: expected one of pass, warn, fail, error/);
  });

  it('refuses to append after a partial last record', async () => {
    const { path } = await goodLog(1);
    await writeFile(path, `${await readFile(path, 'utf8')}{"seq":2`);
    await assert.rejects(appendAuditRecord(path, entry(2)), /ends in a partial record/);
  });

  it('takes over a lock left by a dead process', async () => {
    const { path } = await goodLog(1);
    // pid 2^22 + 1 is above Linux's pid_max default, so no process holds it.
    await writeFile(`${path}.lock`, JSON.stringify({ pid: 4_194_305, host: (await import('node:os')).hostname(), token: 'x' }));
    const record = await appendAuditRecord(path, entry(2), { timeoutMs: 2000 });
    assert.equal(record.seq, 2);
    await assert.rejects(stat(`${path}.lock`), { code: 'ENOENT' });
  });

  it('takes over a lock older than staleMs, and times out on a fresh live one', async () => {
    const { path } = await goodLog(1);
    const lock = `${path}.lock`;
    await writeFile(lock, JSON.stringify({ pid: process.pid, host: 'elsewhere', token: 'y' }));
    await assert.rejects(appendAuditRecord(path, entry(2), { timeoutMs: 100 }), /timed out after 100 ms waiting for lock/);
    const old = new Date(Date.now() - 120_000);
    await utimes(lock, old, old);
    assert.equal((await appendAuditRecord(path, entry(2), { timeoutMs: 2000 })).seq, 2);
  });
});

describe('verifyAuditLog', () => {
  const swap = (lines: string[], a: number, b: number): string[] => {
    const copy = [...lines];
    [copy[a], copy[b]] = [copy[b]!, copy[a]!];
    return copy;
  };
  const rehash = (line: string, change: Partial<AuditRecord>): string => {
    const { hash: _h, ...rest } = { ...(JSON.parse(line) as AuditRecord), ...change };
    return JSON.stringify({ ...rest, hash: auditRecordHash(rest) });
  };
  const cases: Array<{ name: string; tamper: (lines: string[]) => string; expected: { ok: boolean; line?: number; kind?: string; records: number } }> = [
    { name: 'intact', tamper: (l) => `${l.join('\n')}\n`, expected: { ok: true, records: 4 } },
    { name: 'empty', tamper: () => '', expected: { ok: true, records: 0 } },
    { name: 'edited verdict', tamper: (l) => `${l.map((line, i) => (i === 1 ? line.replace('"verdict":"pass"', '"verdict":"fail"') : line)).join('\n')}\n`, expected: { ok: false, line: 2, kind: 'edited', records: 1 } },
    { name: 'edited and rehashed', tamper: (l) => `${l.map((line, i) => (i === 1 ? rehash(line, { verdict: 'fail' }) : line)).join('\n')}\n`, expected: { ok: false, line: 3, kind: 'chain', records: 2 } },
    { name: 'reordered', tamper: (l) => `${swap(l, 1, 2).join('\n')}\n`, expected: { ok: false, line: 2, kind: 'reordered', records: 1 } },
    { name: 'removed', tamper: (l) => `${l.filter((_, i) => i !== 1).join('\n')}\n`, expected: { ok: false, line: 2, kind: 'removed', records: 1 } },
    { name: 'removed first', tamper: (l) => `${l.slice(1).join('\n')}\n`, expected: { ok: false, line: 1, kind: 'removed', records: 0 } },
    { name: 'duplicated', tamper: (l) => `${[l[0], l[1], l[1], l[2], l[3]].join('\n')}\n`, expected: { ok: false, line: 3, kind: 'inserted', records: 2 } },
    { name: 'not JSON', tamper: (l) => `${[l[0], 'oops', ...l.slice(1)].join('\n')}\n`, expected: { ok: false, line: 2, kind: 'malformed', records: 1 } },
    { name: 'torn tail', tamper: (l) => `${l.join('\n')}\n{"seq":5`, expected: { ok: false, line: 5, kind: 'malformed', records: 4 } },
  ];
  for (const testCase of cases) {
    it(`${testCase.name} -> ${testCase.expected.ok ? 'intact' : `${testCase.expected.kind} at line ${testCase.expected.line}`}`, async () => {
      const { path, lines } = await goodLog(4);
      await writeFile(path, testCase.tamper(lines));
      const result = await verifyAuditLog(path);
      assert.equal(result.ok, testCase.expected.ok);
      assert.equal(result.records, testCase.expected.records);
      assert.equal(result.problem?.line, testCase.expected.line);
      assert.equal(result.problem?.kind, testCase.expected.kind);
    });
  }

  it('explains a reorder in words', async () => {
    const { path, lines } = await goodLog(3);
    await writeFile(path, `${swap(lines, 1, 2).join('\n')}\n`);
    assert.equal((await verifyAuditLog(path)).problem?.message, 'seq 3 where seq 2 was due; seq 2 is at line 3: records were reordered');
  });

  it('throws InputError for a missing log', async () => {
    await assert.rejects(verifyAuditLog(join(await tempDir(), 'none.jsonl')), InputError);
  });
});

describe('concurrent appends', () => {
  it('keeps one unbroken chain when processes append at once', async () => {
    const path = join(await tempDir(), 'audit.jsonl');
    // The worker sits beside this file: .ts under tsx, .js once compiled.
    const extension = extname(fileURLToPath(import.meta.url));
    const worker = fileURLToPath(new URL(`./fixtures/append-worker${extension}`, import.meta.url));
    const loader = extension === '.ts' ? ['--import', 'tsx'] : [];
    const workers = 4;
    const each = 25;
    const exits = await Promise.all(
      Array.from({ length: workers }, (_, w) =>
        new Promise<number | null>((resolve, reject) => {
          const child = spawn(process.execPath, [...loader, worker, path, String(each), String(w)], { stdio: ['ignore', 'ignore', 'inherit'] });
          child.on('error', reject);
          child.on('exit', resolve);
        }),
      ),
    );
    assert.deepEqual(exits, Array(workers).fill(0));
    const result = await verifyAuditLog(path);
    assert.equal(result.problem, undefined);
    assert.equal(result.records, workers * each);
    const records = (await readFile(path, 'utf8')).trimEnd().split('\n').map((line) => JSON.parse(line) as AuditRecord);
    assert.equal(new Set(records.map((r) => r.inputSha256)).size, workers * each);
  });
});

describe('audit verify command', () => {
  const sink = (): { stream: Writable; text: () => string } => {
    let text = '';
    return { stream: new Writable({ write: (chunk, _e, done) => ((text += String(chunk)), done()) }), text: () => text };
  };
  const cases: Array<[string, (lines: string[]) => string, number, RegExp]> = [
    ['intact', (l) => `${l.join('\n')}\n`, 0, /^INTACT: .*: 2 records, head [0-9a-f]{64}\n$/],
    ['tampered', (l) => `${l[1]}\n${l[0]}\n`, 2, /^TAMPERED: .*: line 1 \(reordered\): seq 2 where seq 1 was due/],
  ];
  for (const [name, tamper, code, output] of cases) {
    it(`${name} -> exit ${code}`, async () => {
      const { path, lines } = await goodLog(2);
      await writeFile(path, tamper(lines));
      const out = sink();
      const exit = await auditVerifyCommand.run([], { log: path }, { log: pino({ level: 'silent' }), stdout: out.stream, stderr: out.stream, verbose: false });
      assert.equal(exit, code);
      assert.match(out.text(), output);
    });
  }
  it('uses DATAWARDEN_AUDIT_LOG when --log is absent, and an unreadable log is an InputError (exit 3)', async () => {
    const { path } = await goodLog(1);
    const saved = process.env.DATAWARDEN_AUDIT_LOG;
    process.env.DATAWARDEN_AUDIT_LOG = path;
    try {
      const out = sink();
      assert.equal(await auditVerifyCommand.run([], {}, { log: pino({ level: 'silent' }), stdout: out.stream, stderr: out.stream, verbose: false }), 0);
      assert.match(out.text(), new RegExp(`^INTACT: ${path}: 1 records`));
      process.env.DATAWARDEN_AUDIT_LOG = `${path}.absent`;
      await assert.rejects(auditVerifyCommand.run([], {}, { log: pino({ level: 'silent' }), stdout: out.stream, stderr: out.stream, verbose: false }), InputError);
    } finally {
      if (saved === undefined) delete process.env.DATAWARDEN_AUDIT_LOG;
      else process.env.DATAWARDEN_AUDIT_LOG = saved;
    }
  });
});
