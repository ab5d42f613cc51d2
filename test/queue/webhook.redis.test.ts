// The completion webhook: a local server checks the HMAC signature of the exact body it gets;
// a failed delivery is retried, and a webhook that never answers well is recorded in the job's
// result without failing the scan.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ScanQueue } from '../../src/queue/client.js';
import { SIGNATURE_HEADER, verifyWebhookSignature } from '../../src/queue/webhook.js';
import { ROOT, tempDir } from '../helpers.js';
import { removeKeys, requireRedis, startWorkerProcess, uniquePrefix, REDIS_URL, RULE_CHECKS, type WorkerProcess } from './helpers.js';

const INCOMING = join(ROOT, 'datasets/credit/incoming.csv');
const CONTRACT = join(ROOT, 'schemas/credit.contract.json');
const SECRET = 'test-secret-7f3a';
const prefix = uniquePrefix('webhook');

interface Delivery { path: string; body: string; signature: string | undefined }
const deliveries: Delivery[] = [];
/** Status to answer per path, request by request (then 200). */
const answers = new Map<string, number[]>();
let server: Server;
let base: string;
let worker: WorkerProcess;
let queue: ScanQueue;
let work: string;

before(async () => {
  await requireRedis();
  work = await tempDir();
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      deliveries.push({ path: request.url!, body, signature: request.headers[SIGNATURE_HEADER.toLowerCase()] as string | undefined });
      response.statusCode = answers.get(request.url!)?.shift() ?? 200;
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  worker = await startWorkerProcess(prefix, [], { DATAWARDEN_WEBHOOK_SECRET: SECRET });
  queue = new ScanQueue({ connection: { redisUrl: REDIS_URL, prefix } });
});

after(async () => {
  await queue?.close();
  await worker?.stop();
  await new Promise((resolve) => server?.close(resolve));
  await removeKeys(prefix);
  if (work) await rm(work, { recursive: true, force: true });
});

test('the summary is POSTed with a valid HMAC-SHA256 signature, after a retry', async () => {
  answers.set('/flaky', [503]);
  const { id } = await queue.enqueue({ input: INCOMING, contract: CONTRACT, checks: RULE_CHECKS, outDir: join(work, 'flaky'), webhook: `${base}/flaky` });
  const status = await queue.wait(id, { timeoutMs: 30_000 });
  assert.equal(status.state, 'completed', status.failedReason ?? '');
  const received = deliveries.filter((d) => d.path === '/flaky');
  assert.equal(received.length, 2, 'one failed delivery, one retry');
  for (const delivery of received) {
    assert.ok(verifyWebhookSignature(delivery.body, delivery.signature, SECRET), `signature ${delivery.signature}`);
    assert.ok(!verifyWebhookSignature(delivery.body, delivery.signature, 'wrong-secret'));
  }
  const summary = JSON.parse(received[1]!.body);
  assert.equal(summary.event, 'scan.completed');
  assert.equal(summary.jobId, id);
  assert.equal(summary.verdict, 'warn');
  assert.equal(summary.exitCode, 1);
  assert.equal(summary.rows, 2013);
  assert.equal(summary.quarantined, 65);
  assert.equal(summary.report, join(work, 'flaky', 'report.json'));
  assert.deepEqual(status.summary!.webhook, { url: `${base}/flaky`, delivered: true, attempts: 2, status: 200, signed: true });
});

test('a webhook that keeps failing is recorded, and the scan still completes with its verdict', async () => {
  answers.set('/down', [500, 500, 500, 500, 500]);
  const { id } = await queue.enqueue({ input: INCOMING, contract: CONTRACT, checks: RULE_CHECKS, outDir: join(work, 'down'), webhook: `${base}/down` });
  const status = await queue.wait(id, { timeoutMs: 30_000 });
  assert.equal(status.state, 'completed');
  assert.equal(status.summary!.verdict, 'warn');
  assert.deepEqual(status.summary!.webhook, { url: `${base}/down`, delivered: false, attempts: 4, status: 500, signed: true, error: 'HTTP 500' });
  assert.equal(deliveries.filter((d) => d.path === '/down').length, 4);
});
