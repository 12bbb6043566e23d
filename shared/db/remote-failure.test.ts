import { describe, expect, it } from 'vitest';
import { redactUrls } from './remote-failure.ts';

describe('redactUrls', () => {
  it('drops the credentials and the query of every URL in a message, and keeps the rest', () => {
    expect(
      redactUrls(
        'cannot reach https://me:pw@db.example.test/x?authToken=t1 nor wss://tok@other.test:8080?a=b, sorry',
      ),
    ).toBe('cannot reach https://db.example.test/x nor wss://other.test:8080 sorry');
  });
});
