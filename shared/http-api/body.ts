import express, { type Request, type Response } from 'express';
import { BadRequestError, UnsupportedMediaTypeError } from '../errors.ts';
import { MAX_BODY_BYTES } from './middleware.ts';
import type { BodyKind } from './route.ts';

/** Reads any body as bytes, up to 1 MiB whatever its type (413 beyond), inflating gzip/deflate. */
const readRaw = express.raw({ type: () => true, limit: MAX_BODY_BYTES });

const JSON_TYPES = ['application/json', 'application/*+json'];

/** The body's bytes; empty when none was sent. Rejects with body-parser's errors (413, 415, 400). */
export function readBody(req: Request, res: Response): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    readRaw(req, res, (error?: unknown) => {
      if (error) return reject(error);
      const body: unknown = req.body;
      resolve(Buffer.isBuffer(body) ? body : Buffer.alloc(0));
    });
  });
}

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
