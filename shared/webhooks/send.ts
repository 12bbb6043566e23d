import { callSignal } from '../abort.ts';
import { send } from '../http-client.ts';
import { describeTransportError } from '../services/http.ts';
import { isTraceId, newTraceId, traceparentFor } from '../trace.ts';
import { PACKAGE_VERSION } from '../version.ts';
import type { ClaimedDelivery } from './outbox.ts';
import { type AttemptResult, parseRetryAfter } from './retry-policy.ts';
import { signDelivery, webhookSecrets } from './sign.ts';

/** SPEC §5: each attempt is cut off after 10 s. */
export const DELIVERY_TIMEOUT_MS = 10_000;

export interface SendOptions {
  /** The webhook's secret, or its secrets newest first (SPEC §15); "" sends unsigned. */
  secret: string | readonly string[];
  timeoutMs?: number;
  /** Aborts the attempt early (shutdown). */
  signal?: AbortSignal | undefined;
  now?: () => number;
}

/** One POST of a delivery's stored bytes, signed, without following redirects. */
export async function sendDelivery(
  delivery: ClaimedDelivery,
  options: SendOptions,
): Promise<AttemptResult> {
  const now = options.now ?? Date.now;
  const timestamp = Math.floor(now() / 1000);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': `Aegis/${PACKAGE_VERSION}`,
    'webhook-id': delivery.webhookId,
    'webhook-timestamp': String(timestamp),
    // The run's trace, so a receiver's logs join the run; a new span per attempt.
    traceparent: traceparentFor(
      delivery.traceId && isTraceId(delivery.traceId) ? delivery.traceId : newTraceId(),
    ),
  };
  const [newest, ...older] = webhookSecrets(options.secret);
  if (newest !== undefined)
    Object.assign(
      headers,
      signDelivery([newest, ...older], delivery.webhookId, timestamp, delivery.payload),
    );
  const attempt = callSignal(
    options.timeoutMs ?? DELIVERY_TIMEOUT_MS,
    options.signal,
    () => new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
  );
  const { signal } = attempt;
  try {
    const response = await send(delivery.url, {
      method: 'POST',
      headers,
      body: delivery.payload,
      signal,
    });
    response.discard();
    const ok = response.status >= 200 && response.status < 300;
    const redirect = response.status >= 300 && response.status < 400;
    return {
      statusCode: response.status,
      error: ok
        ? null
        : redirect
          ? `HTTP ${response.status} redirect (not followed)`
          : `HTTP ${response.status}`,
      retryAfterMs: ok ? null : parseRetryAfter(response.header('retry-after'), now()),
    };
  } catch (error) {
    const why = options.signal?.aborted
      ? 'cut short by a shutdown before an answer came'
      : attempt.timedOut()
        ? `no answer within ${(options.timeoutMs ?? DELIVERY_TIMEOUT_MS) / 1000}s`
        : describeTransportError(error);
    return { statusCode: null, error: why, retryAfterMs: null };
  } finally {
    attempt.done();
  }
}
