import type { Readable } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';
import type { Request, Response } from 'express';
import { BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../errors.ts';
import { MAX_BODY_BYTES } from './middleware.ts';
import type { BodyKind } from './route.ts';

const TOO_LARGE = `request body is larger than 1 MiB (${MAX_BODY_BYTES} bytes)`;

/**
 * The body's bytes, up to 1 MiB whatever its type; empty when none was sent.
 * A body announced larger is refused at once, unread, and so is one that
 * grows past the limit: the connection is closed after the 413 rather than
 * drained, so a client cannot make the host read 64 MiB it will refuse.
 * gzip and deflate are inflated (the limit applies to what they inflate to).
 */
export async function readBody(req: Request, res: Response): Promise<Buffer> {
  // serverless-http hands the whole body over as a Buffer (Lambda).
  const given: unknown = req.body;
  if (Buffer.isBuffer(given)) {
    if (given.length > MAX_BODY_BYTES) throw new PayloadTooLargeError(TOO_LARGE);
    return given;
  }
  const announced = Number(req.headers['content-length'] ?? Number.NaN);
  if (announced > MAX_BODY_BYTES) return refuse(res, new PayloadTooLargeError(TOO_LARGE));
  if (
    announced === 0 ||
    (Number.isNaN(announced) && req.headers['transfer-encoding'] === undefined)
  )
    return Buffer.alloc(0);
  const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
  let source: Readable = req;
  if (encoding === 'gzip') source = req.pipe(createGunzip());
  else if (encoding === 'deflate') source = req.pipe(createInflate());
  else if (encoding !== 'identity')
    return refuse(
      res,
      new UnsupportedMediaTypeError(
        `Content-Encoding "${encoding}" is not supported (send identity, gzip or deflate)`,
      ),
    );
  const body = await collect(source, MAX_BODY_BYTES).catch((error: unknown) => {
    if (error === OVER_LIMIT) return refuse(res, new PayloadTooLargeError(TOO_LARGE));
    throw new BadRequestError(
      encoding === 'identity'
        ? 'the request body ended before it was complete'
        : `request body is not valid ${encoding}`,
    );
  });
  return body;
}

const OVER_LIMIT = Symbol('over the limit');

/**
 * Reads a stream to its end, up to `limit` bytes. Past the limit it stops
 * listening (without destroying the request, so the 413 can still go out
 * on its socket) and rejects with OVER_LIMIT.
 */
function collect(source: Readable, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        source.off('data', onData);
        source.pause();
        reject(OVER_LIMIT);
        return;
      }
      chunks.push(chunk);
    };
    source.on('data', onData);
    source.once('end', () => resolve(Buffer.concat(chunks)));
    source.once('error', reject);
    source.once('close', () => {
      if (!(source as Readable & { complete?: boolean }).complete && source.readableEnded === false)
        reject(new Error('the request body ended before it was complete'));
    });
  });
}

/** Answers without reading the rest of the body, and closes the connection once the answer is out. */
function refuse(res: Response, error: Error): never {
  res.setHeader('connection', 'close');
  throw error;
}

const JSON_TYPES = ['application/json', 'application/*+json'];

/**
 * What a route receives as its body: for `json`, undefined when empty, else
 * the parsed JSON (415 when it is not declared as JSON, 400 when it does not
 * parse); for `raw`, the bytes are left to the route.
 */
export function decodeBody(req: Request, raw: Buffer, kind: BodyKind): unknown {
  if (kind === 'raw' || raw.length === 0) return undefined;
  if (!req.is(JSON_TYPES))
    throw new UnsupportedMediaTypeError(
      `request body must be JSON (Content-Type: application/json), got ${req.headers['content-type'] ? `"${req.headers['content-type']}"` : 'no Content-Type'}`,
    );
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    throw new BadRequestError('request body is not valid JSON');
  }
}
