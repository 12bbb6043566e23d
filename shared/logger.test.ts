import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FUNCTIONS } from '#functions/index.ts';
import { apiGatewayEvent } from '#shared/http-api/apigw-event.ts';
import { contextFromEnvironment, lambdaHandler } from '#shared/http-api/lambda.ts';
import { tempDir } from '#test/support/temp.ts';
import { UserFacingError } from './errors.ts';
import { createLogger } from './logger.ts';

/** A stream that collects what is written, optionally claiming to be a terminal. */
function sink({ terminal = false } = {}) {
  const stream = new PassThrough() as PassThrough & { isTTY?: boolean };
  if (terminal) stream.isTTY = true;
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  return { stream, text: () => text };
}

function thrown(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected it to throw');
}

describe('LOG_LEVEL', () => {
  it('is refused when unknown, naming the valid levels', () => {
    const error = thrown(() => createLogger({ destination: sink().stream, level: 'LOUD' }));

    expect(error).toBeInstanceOf(UserFacingError);
    expect(error.message).toBe(
      'LOG_LEVEL is "LOUD", which is not a log level (valid, in any case: DEBUG, INFO, WARN, ERROR, SILENT)',
    );
  });

  it('takes the levels in any case', () => {
    const out = sink();
    const logger = createLogger({ destination: out.stream, level: 'debug' });

    logger.debug('visible at debug');
    createLogger({ destination: out.stream, level: 'Silent' }).error('never shown');

    expect(out.text()).toContain('visible at debug');
    expect(out.text()).not.toContain('never shown');
  });

  it('fails a Lambda cold start with that message', async () => {
    const handler = lambdaHandler(FUNCTIONS.health, FUNCTIONS.health.routes, () =>
      contextFromEnvironment({ LOG_LEVEL: 'LOUD' }, tempDir()),
    );

    const answer = await handler(apiGatewayEvent({ path: '/health' }));

    expect(answer.statusCode).toBe(500);
    expect(JSON.parse(answer.body ?? '{}')).toEqual({
      error: 'configuration_error',
      message:
        'the function could not start: LOG_LEVEL is "LOUD", which is not a log level (valid, in any case: DEBUG, INFO, WARN, ERROR, SILENT)',
    });
  });
});

describe('LOG_FORMAT', () => {
  it('is pretty on a terminal: time, level, message, then key=value, secrets redacted', () => {
    const out = sink({ terminal: true });
    const logger = createLogger({ destination: out.stream, level: 'INFO' });

    logger.info('webhook attempt', {
      receiver: 'http://127.0.0.1:9',
      attempt: 2,
      note: 'two words',
      secret: 'whsec_never-shown',
      detail: { token: 'never-shown-either', kept: true },
    });

    expect(out.text()).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}webhook attempt receiver=http:\/\/127\.0\.0\.1:9 attempt=2 note="two words" secret=\*\*\* detail=\{"token":"\*\*\*","kept":true\}\n$/,
    );
  });

  it('is JSON when the destination is not a terminal (the container, a pipe)', () => {
    const out = sink();
    createLogger({ destination: out.stream, level: 'INFO' }).info('hello', { n: 1 });

    expect(JSON.parse(out.text())).toMatchObject({ level: 'INFO', message: 'hello', n: 1 });
  });

  it('follows LOG_FORMAT over the terminal check, in any case', () => {
    const terminal = sink({ terminal: true });
    const pipe = sink();
    createLogger({ destination: terminal.stream, format: 'JSON' }).info('on a terminal');
    createLogger({ destination: pipe.stream, format: 'pretty' }).warn('in a pipe');

    expect(JSON.parse(terminal.text())).toMatchObject({ message: 'on a terminal' });
    expect(pipe.text()).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN {2}in a pipe\n$/);
  });

  it('keeps its format in child loggers', () => {
    const out = sink();
    const child = createLogger({ destination: out.stream, format: 'pretty' }).createChild();

    child.info('from a child');

    expect(out.text()).toMatch(/ INFO {2}from a child\n$/);
  });

  it('is refused when unknown, naming the valid formats', () => {
    const error = thrown(() => createLogger({ destination: sink().stream, format: 'fancy' }));

    expect(error).toBeInstanceOf(UserFacingError);
    expect(error.message).toBe(
      'LOG_FORMAT is "fancy", which is not a log format (valid: pretty, json; unset: pretty on a terminal, json otherwise)',
    );
  });
});
