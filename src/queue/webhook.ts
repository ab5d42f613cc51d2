// The completion webhook: a POST of the scan summary, signed with HMAC-SHA256 of the exact body
// (`X-Datawarden-Signature: sha256=<hex>`, secret from DATAWARDEN_WEBHOOK_SECRET) so the receiver
// can trust it. A few retries with backoff; a webhook that still fails is recorded in the job's
// result and logged, and never fails the scan.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WebhookOutcome } from './jobs.js';

export const SIGNATURE_HEADER = 'X-Datawarden-Signature';

export function webhookSignature(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** For receivers: whether `header` is the signature of `body` under `secret` (constant time). */
export function verifyWebhookSignature(body: string, header: string | undefined, secret: string): boolean {
  if (!header) return false;
  const expected = Buffer.from(webhookSignature(body, secret));
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export interface WebhookOptions {
  readonly secret?: string;
  /** Attempts in all (default 4). */
  readonly attempts?: number;
  /** Delay before the first retry; doubles each time (default 500 ms). */
  readonly backoffMs?: number;
  readonly timeoutMs?: number;
}

export async function postWebhook(url: string, payload: unknown, options: WebhookOptions = {}): Promise<WebhookOutcome> {
  const body = JSON.stringify(payload);
  const secret = options.secret ?? process.env.DATAWARDEN_WEBHOOK_SECRET;
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'datawarden' };
  if (secret) headers[SIGNATURE_HEADER] = webhookSignature(body, secret);
  const attempts = options.attempts ?? 4;
  let status: number | null = null;
  let error = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) await sleep((options.backoffMs ?? 500) * 2 ** (attempt - 2));
    try {
      const response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) });
      status = response.status;
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return { url, delivered: true, attempts: attempt, status, signed: Boolean(secret) };
      error = `HTTP ${response.status}`;
      // A client error other than a timeout or rate limit will not change on retry.
      if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) {
        return { url, delivered: false, attempts: attempt, status, signed: Boolean(secret), error };
      }
    } catch (failure) {
      status = null;
      const cause = (failure as { cause?: { code?: string } }).cause?.code;
      error = cause ?? (failure instanceof Error ? failure.message : String(failure));
    }
  }
  return { url, delivered: false, attempts, status, signed: Boolean(secret), error };
}
