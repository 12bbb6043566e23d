import { describe, expect, it } from 'vitest';
import { stubForTest } from '#test/support/stub-service.ts';
import type { ClaimedDelivery } from './outbox.ts';
import { sendDelivery } from './send.ts';

function delivery(url: string): ClaimedDelivery {
  return {
    id: 1,
    webhookId: 'msg_1',
    url,
    payload: '{"event":"workflow.started"}',
    attempts: 0,
    claimToken: 'token',
    traceId: null,
  };
}

describe('sendDelivery: one attempt', () => {
  it('gives up at its timeout, saying so', async () => {
    const slow = await stubForTest({ 'POST /hook': { body: {}, delayMs: 2_000 } });
    const started = performance.now();
    const result = await sendDelivery(delivery(`${slow.url}/hook`), { secret: '', timeoutMs: 100 });
    expect(result).toEqual({
      statusCode: null,
      error: 'no answer within 0.1s',
      retryAfterMs: null,
    });
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  it('is cut short by a shutdown, and says that rather than a timeout', async () => {
    const slow = await stubForTest({ 'POST /hook': { body: {}, delayMs: 2_000 } });
    const shutdown = new AbortController();
    const pending = sendDelivery(delivery(`${slow.url}/hook`), {
      secret: '',
      timeoutMs: 10_000,
      signal: shutdown.signal,
    });
    setTimeout(() => shutdown.abort(), 50);
    expect((await pending).error).toBe('cut short by a shutdown before an answer came');
    // A shutdown already signalled stops an attempt before it starts.
    const late = await sendDelivery(delivery(`${slow.url}/hook`), {
      secret: '',
      signal: shutdown.signal,
    });
    expect(late.error).toBe('cut short by a shutdown before an answer came');
  });

  it("leaves nothing on the worker's long-lived signal once an attempt is over", async () => {
    const fast = await stubForTest({ 'POST /hook': { body: {} } });
    const worker = new AbortController();
    let listeners = 0;
    const signal = worker.signal;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = (...args: Parameters<typeof add>) => {
      listeners++;
      add(...args);
    };
    signal.removeEventListener = (...args: Parameters<typeof remove>) => {
      listeners--;
      remove(...args);
    };
    for (let i = 0; i < 20; i++) {
      const result = await sendDelivery(delivery(`${fast.url}/hook`), { secret: '', signal });
      expect(result.statusCode).toBe(200);
    }
    expect(listeners).toBe(0);
  });
});
