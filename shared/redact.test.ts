import { describe, expect, it } from 'vitest';
import { isCredentialName, redactUrl, redactUrlsIn } from './redact.ts';

describe('redactUrl', () => {
  describe.each([
    {
      case: 'user and password',
      url: 'https://u:p@host.test/x',
      shown: 'https://***:***@host.test/x',
    },
    {
      case: 'a user alone (often a token)',
      url: 'https://ghp_abc@host.test',
      shown: 'https://***@host.test',
    },
    {
      case: 'an empty user with a password',
      url: 'https://:p@host.test',
      shown: 'https://:***@host.test',
    },
    {
      case: 'an @ inside the password',
      url: 'https://u:p@ss@host.test:8443/a@b',
      shown: 'https://***:***@host.test:8443/a@b',
    },
    {
      case: 'a token parameter',
      url: 'https://h.test/hook?token=s3cr3t&channel=qa',
      shown: 'https://h.test/hook?token=***&channel=qa',
    },
    {
      case: 'names of every kind',
      url: 'https://h.test/?key=1&secret=2&sig=3&signature=4&password=5&auth=6&page=7',
      shown:
        'https://h.test/?key=***&secret=***&sig=***&signature=***&password=***&auth=***&page=7',
    },
    {
      case: 'names made of parts',
      url: 'https://h.test/?access_token=a&api_key=b&X-Amz-Signature=c&apiKey=d&apikey=e&X-Amz-Date=f',
      shown:
        'https://h.test/?access_token=***&api_key=***&X-Amz-Signature=***&apiKey=***&apikey=***&X-Amz-Date=f',
    },
    {
      case: 'names in upper case',
      url: 'https://h.test/?TOKEN=a&Password=b',
      shown: 'https://h.test/?TOKEN=***&Password=***',
    },
    {
      case: 'a percent-encoded name',
      url: 'https://h.test/?api%5Fkey=a',
      shown: 'https://h.test/?api%5Fkey=***',
    },
    {
      case: 'a token in the fragment',
      url: 'https://h.test/cb#access_token=a&state=b',
      shown: 'https://h.test/cb#access_token=***&state=b',
    },
    {
      case: 'everything at once',
      url: 'libsql://u:p@db.test:8080/x?authToken=t#f',
      shown: 'libsql://***:***@db.test:8080/x?authToken=***#f',
    },
  ])('$case', ({ url, shown }) => {
    it(`shows ${shown}`, () => {
      // Act
      const result = redactUrl(url);

      // Assess
      expect(result).toBe(shown);
    });
  });

  it.each([
    'https://h.test',
    'HTTP://Host.Test:80/a/../b?q=a%20b&page=2&token=#x',
    'https://h.test/?token&flag',
    'https://h.test/services/T000/B000?x=1;y=2',
    'not a url at all',
    '',
  ])('keeps %j exactly as written', (url) => {
    // Act
    const result = redactUrl(url);

    // Assess
    expect(result).toBe(url);
  });
});

describe('isCredentialName', () => {
  it.each([
    'token',
    'access_token',
    'refresh-token',
    'authToken',
    'key',
    'api_key',
    'x-api-key',
    'secret',
    'client_secret',
    'sig',
    'X-Amz-Signature',
    'password',
    'auth',
    'authorization',
    'X-Goog-Credential',
  ])('%s is a credential', (name) => {
    expect(isCredentialName(name)).toBe(true);
  });

  it.each(['page', 'limit', 'status', 'channel', 'X-Amz-Date', 'event_type', 'signed_in_as'])(
    '%s is not',
    (name) => {
      expect(isCredentialName(name)).toBe(false);
    },
  );
});

describe('redactUrlsIn', () => {
  it.each([
    {
      case: 'a URL in a sentence',
      text: 'POST https://u:p@h.test/x?token=t failed: HTTP 500',
      shown: 'POST https://***:***@h.test/x?token=*** failed: HTTP 500',
    },
    {
      case: 'several URLs',
      text: 'from http://a:b@one.test to https://two.test/?key=k',
      shown: 'from http://***:***@one.test to https://two.test/?key=***',
    },
    {
      case: 'a URL ending a sentence',
      text: 'cannot reach https://h.test/?token=t.',
      shown: 'cannot reach https://h.test/?token=***.',
    },
    {
      case: 'a URL in parentheses',
      text: 'the hook (https://tok@h.test/x) answered 410',
      shown: 'the hook (https://***@h.test/x) answered 410',
    },
    {
      case: 'a quoted URL',
      text: 'must be an http(s) URL with a host (got "ftp://u:p@h.test")',
      shown: 'must be an http(s) URL with a host (got "ftp://***:***@h.test")',
    },
    { case: 'no URL', text: 'connection refused', shown: 'connection refused' },
  ])('$case', ({ text, shown }) => {
    // Act
    const result = redactUrlsIn(text);

    // Assess
    expect(result).toBe(shown);
  });
});
