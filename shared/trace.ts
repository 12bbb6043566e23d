import { randomBytes } from 'node:crypto';

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent`
 * header every outbound request carries, and the one a caller may send.
 * Aegis records no spans of its own; it carries the trace id across the calls
 * a run makes, so a QA agent's logs join the run that called it.
 */

/** A trace as a caller handed it over: its id and the caller's span, our parent. */
export interface IncomingTrace {
  /** 32 lowercase hex digits, not all zero. */
  traceId: string;
  /** 16 lowercase hex digits, not all zero: the caller's span. */
  parentSpanId: string;
  /** 2 hex digits; bit 0 is `sampled`. */
  flags: string;
}

export const TRACEPARENT_HEADER = 'traceparent';

/** Aegis keeps every run, so what it sends is marked sampled. */
const SAMPLED = '01';
const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const ALL_ZERO = /^0+$/;
/** version-traceid-parentid-flags; a later version may append fields after a dash. */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

export function newTraceId(): string {
  return randomBytes(16).toString('hex');
}

export function newSpanId(): string {
  return randomBytes(8).toString('hex');
}

export function isTraceId(value: string): boolean {
  return TRACE_ID.test(value) && !ALL_ZERO.test(value);
}

/**
 * The trace a `traceparent` header carries, or null when it is absent or
 * malformed by the specification's rules (version `ff`, ids all zero, upper
 * case, version 00 with anything after the flags): then a new trace starts.
 */
export function parseTraceparent(
  header: string | readonly string[] | undefined,
): IncomingTrace | null {
  if (typeof header !== 'string') return null; // absent, or sent twice: no trace to trust
  const match = TRACEPARENT.exec(header.trim());
  if (!match) return null;
  const [, version, traceId, parentSpanId, flags, rest] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string | undefined,
  ];
  if (version === 'ff') return null;
  if (version === '00' && rest !== undefined) return null;
  if (ALL_ZERO.test(traceId) || ALL_ZERO.test(parentSpanId)) return null;
  return { traceId, parentSpanId, flags };
}

/** `00-<trace id>-<span id>-<flags>`. */
export function formatTraceparent(traceId: string, spanId: string, flags = SAMPLED): string {
  if (!isTraceId(traceId)) throw new Error(`not a W3C trace id: "${traceId}"`);
  if (!SPAN_ID.test(spanId) || ALL_ZERO.test(spanId))
    throw new Error(`not a W3C span id: "${spanId}"`);
  return `00-${traceId}-${spanId}-${flags}`;
}

/** The trace a request asked to continue (its `traceparent`), as `RunService.start` takes it; undefined when none or malformed. */
export function continuedTrace(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): { traceId: string; parentSpanId: string } | undefined {
  const incoming = parseTraceparent(headers[TRACEPARENT_HEADER]);
  return incoming ? { traceId: incoming.traceId, parentSpanId: incoming.parentSpanId } : undefined;
}

/** The header for one outbound request of a trace: a new span of its own. */
export function traceparentFor(traceId: string): string {
  return formatTraceparent(traceId, newSpanId());
}
