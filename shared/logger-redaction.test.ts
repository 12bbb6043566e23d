import { describe, expect, it } from 'vitest';
import { captureLogger } from '#test/support/temp.ts';

describe('what a log line never shows', () => {
  it('masks credentials in every URL of a message, an attribute, a nested value and an error', () => {
    // Prepare
    const { logger, lines, text } = captureLogger();

    // Act
    logger.warn('cannot reach https://ci:pass-1@qa.test/health?token=pass-2', {
      receiver: 'https://hooks.test/x?sig=pass-3&channel=qa',
      nested: { urls: ['libsql://u:pass-4@db.test', 'http://plain.test/?page=2'] },
      error: new Error('fetch https://pass-5@api.test failed'),
    });
    logger
      .createChild({ persistentKeys: { db: 'https://h.test/?authToken=pass-6' } })
      .info('child line');

    // Assess
    expect(text()).not.toMatch(/pass-\d/);
    const [warn, child] = lines();
    expect(warn).toMatchObject({
      message: 'cannot reach https://***:***@qa.test/health?token=***',
      receiver: 'https://hooks.test/x?sig=***&channel=qa',
      nested: { urls: ['libsql://***:***@db.test', 'http://plain.test/?page=2'] },
      error: expect.objectContaining({ message: 'fetch https://***@api.test failed' }),
    });
    expect(child).toMatchObject({ db: 'https://h.test/?authToken=***' });
  });

  it('hides the value of a secret-named key whatever it holds', () => {
    // Prepare
    const { logger, lines } = captureLogger();

    // Act
    logger.info('headers', { 'X-API-Key': 'key-1', secret: 'whsec_2', count: 3 });

    // Assess
    expect(lines()[0]).toMatchObject({ 'X-API-Key': '***', secret: '***', count: 3 });
  });
});
