/**
 * The HTTP error hierarchy: the core and the handlers throw these, and one
 * place (the API's error middleware) turns them into `{error, message}` answers.
 */
export abstract class HttpError extends Error {
  abstract readonly statusCode: number;
  abstract readonly code: string;

  toJSON(): { error: string; message: string } {
    return { error: this.code, message: this.message };
  }
}

export class BadRequestError extends HttpError {
  readonly statusCode = 400;
  readonly code = 'bad_request';
}

export class UnauthorizedError extends HttpError {
  readonly statusCode = 401;
  readonly code = 'unauthorized';
}

/** A known key that lacks the scope a route needs (SPEC §15). */
export class ForbiddenError extends HttpError {
  readonly statusCode = 403;
  readonly code = 'forbidden';
}

export class NotFoundError extends HttpError {
  readonly statusCode = 404;
  readonly code = 'not_found';
}

export class MethodNotAllowedError extends HttpError {
  readonly statusCode = 405;
  readonly code = 'method_not_allowed';
  readonly allow: readonly string[];
  constructor(message: string, allow: readonly string[]) {
    super(message);
    this.allow = allow;
  }
}

export class PayloadTooLargeError extends HttpError {
  readonly statusCode = 413;
  readonly code = 'payload_too_large';
}

export class ConflictError extends HttpError {
  readonly statusCode = 409;
  readonly code = 'conflict';
}

export class UnsupportedMediaTypeError extends HttpError {
  readonly statusCode = 415;
  readonly code = 'unsupported_media_type';
}

export class ServiceUnavailableError extends HttpError {
  readonly statusCode = 503;
  readonly code = 'service_unavailable';
}

export class InternalServerError extends HttpError {
  readonly statusCode = 500;
  readonly code = 'internal_error';
}

/** A problem the user can fix (bad config, unknown workflow, unwritable path): printed as one line, never a stack. */
export class UserFacingError extends Error {}

/** The message of anything thrown, without a stack. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
