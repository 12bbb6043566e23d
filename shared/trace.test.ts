import { describe, expect, it } from 'vitest';
import {
  continuedTrace,
  formatTraceparent,
  isTraceId,
  newSpanId,
  newTraceId,
  parseTraceparent,
  traceparentFor,
} from './trace.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
/** The W3C format, exactly: version 00, 32-hex trace id, 16-hex span id, 2-hex flags. */
const W3C = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

describe('W3C trace context', () => {
  it("parses the specification's own example", () => {
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-01`)).toEqual({
      traceId: TRACE,
      parentSpanId: SPAN,
      flags: '01',
    });
  });

  it('accepts a later version with extra fields, keeping the fields it knows', () => {
    expect(parseTraceparent(`cc-${TRACE}-${SPAN}-09-what-the-future-holds`)).toMatchObject({
      traceId: TRACE,
      flags: '09',
    });
  });

  it.each([
    ['absent', undefined],
    ['sent twice', [`00-${TRACE}-${SPAN}-01`, `00-${TRACE}-${SPAN}-01`]],
    ['empty', ''],
    ['upper case', `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ['version ff', `ff-${TRACE}-${SPAN}-01`],
    ['version 00 with more fields', `00-${TRACE}-${SPAN}-01-extra`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${SPAN}-01`],
    ['an all-zero span id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['a short trace id', `00-${TRACE.slice(1)}-${SPAN}-01`],
    ['no flags', `00-${TRACE}-${SPAN}`],
    ['garbage', 'not a traceparent'],
  ])('ignores a traceparent that is %s', (_why, header) => {
    expect(parseTraceparent(header)).toBeNull();
    expect(continuedTrace({ traceparent: header })).toBeUndefined();
  });

  it('continues a valid incoming trace as RunService.start takes it', () => {
    expect(continuedTrace({ traceparent: `00-${TRACE}-${SPAN}-00` })).toEqual({
      traceId: TRACE,
      parentSpanId: SPAN,
    });
  });

  it('formats a header with a new span per call, marked sampled', () => {
    const first = traceparentFor(TRACE);
    const second = traceparentFor(TRACE);
    expect(first).toMatch(W3C);
    expect(first.startsWith(`00-${TRACE}-`)).toBe(true);
    expect(first.endsWith('-01')).toBe(true);
    expect(first).not.toBe(second);
    expect(parseTraceparent(first)?.traceId).toBe(TRACE);
  });

  it('makes ids of the right shape and refuses to format bad ones', () => {
    expect(isTraceId(newTraceId())).toBe(true);
    expect(newSpanId()).toMatch(/^[0-9a-f]{16}$/);
    expect(isTraceId('0'.repeat(32))).toBe(false);
    expect(() => formatTraceparent('abc', SPAN)).toThrow(/trace id/);
    expect(() => formatTraceparent(TRACE, '0'.repeat(16))).toThrow(/span id/);
  });
});
