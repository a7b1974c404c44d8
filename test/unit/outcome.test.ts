import { describe, expect, it } from 'vitest';
import {
  classify,
  type HttpAttempt,
  parseReset,
  parseRetryAfter,
} from '../../shared/delivery/outcome';

const now = Date.parse('2026-11-30T12:00:00Z');
const ctx = { now, windowMs: 60_000 };
const res = (
  status: number,
  body: unknown = '',
  headers: Record<string, string> = {},
): HttpAttempt => ({
  kind: 'response',
  status,
  headers,
  body: typeof body === 'string' ? body : JSON.stringify(body),
});
const problem = (status: number, detail: string) => ({
  type: 'about:blank',
  title: 'Error',
  status,
  detail,
  instance: '/x',
  traceId: 'trace-1',
});

describe('classify', () => {
  it('treats every 2xx as created and reads callId', () => {
    expect(classify(res(200, { callId: 501 }), ctx)).toEqual({ type: 'sent', callId: 501 });
    expect(classify(res(201, { callId: 'A-7' }), ctx)).toEqual({ type: 'sent', callId: 'A-7' });
    // Created without a readable number: players and callbacks are told it is unknown.
    expect(classify(res(204, ''), ctx)).toEqual({ type: 'sent', callId: 'unknown' });
  });

  it('reads problem+json detail, traceId and the gateway request id', () => {
    const out = classify(
      res(400, problem(400, 'title is required'), { 'X-Kong-Request-Id': 'kong-9' }),
      ctx,
    );
    expect(out).toEqual({
      type: 'rejected',
      reason: 'title is required',
      problem: {
        status: 400,
        title: 'Error',
        detail: 'title is required',
        traceId: 'trace-1',
        requestId: 'kong-9',
      },
    });
  });

  it('sorts statuses into what to do', () => {
    expect(classify(res(404, problem(404, 'no such server')), ctx).type).toBe('rejected');
    expect(classify(res(422, ''), ctx).type).toBe('rejected');
    expect(classify(res(401, problem(401, 'invalid key')), ctx).type).toBe('unauthorized');
    expect(classify(res(403, '<html>'), ctx)).toMatchObject({
      type: 'unauthorized',
      reason: 'HTTP 403',
    });
    expect(classify(res(408, ''), ctx).type).toBe('retry');
    expect(classify(res(500, ''), ctx).type).toBe('retry');
    expect(classify(res(503, '<html>bad gateway</html>'), ctx).type).toBe('retry');
    expect(classify({ kind: 'timeout' }, ctx).type).toBe('retry');
    expect(classify({ kind: 'network', message: 'ECONNRESET' }, ctx)).toMatchObject({
      type: 'retry',
      reason: 'network error: ECONNRESET',
    });
  });

  it('waits as long as the first usable rate-limit header says', () => {
    const body = { message: 'API rate limit exceeded', request_id: 'r1' };
    const wait = (headers: Record<string, string>) => {
      const out = classify(res(429, body, headers), ctx);
      if (out.type !== 'rate-limited') throw new Error(out.type);
      return out.waitMs;
    };
    expect(wait({ 'Retry-After': '7' })).toBe(7_000);
    expect(wait({ 'retry-after': new Date(now + 12_000).toUTCString() })).toBe(12_000);
    expect(wait({ 'RateLimit-Reset': '9' })).toBe(9_000);
    expect(wait({ 'X-RateLimit-Reset': String(Math.floor(now / 1000) + 20) })).toBe(20_000);
    expect(wait({ 'X-RateLimit-Reset': String(now + 3_000) })).toBe(3_000);
    // Garbage in the first header falls through to the next one.
    expect(wait({ 'Retry-After': 'soon', 'RateLimit-Reset': '4' })).toBe(4_000);
    // Nothing usable: a whole window.
    expect(wait({})).toBe(60_000);
  });

  it('reads a date or an epoch against the wall clock, not a steady clock that drifted', () => {
    const body = { message: 'API rate limit exceeded', request_id: 'r1' };
    // The steady clock is an hour behind the wall clock (stepped during the run).
    const drifted = { now: now - 3_600_000, wallNow: now, windowMs: 60_000 };
    const wait = (headers: Record<string, string>) => {
      const out = classify(res(429, body, headers), drifted);
      if (out.type !== 'rate-limited') throw new Error(out.type);
      return out.waitMs;
    };
    expect(wait({ 'retry-after': new Date(now + 12_000).toUTCString() })).toBe(12_000);
    expect(wait({ 'X-RateLimit-Reset': String(Math.floor(now / 1000) + 20) })).toBe(20_000);
    expect(wait({ 'Retry-After': '7' })).toBe(7_000);
  });

  it('clamps absurd rate-limit waits', () => {
    const wait = (headers: Record<string, string>) =>
      (classify(res(429, '', headers), ctx) as { waitMs: number }).waitMs;
    expect(wait({ 'Retry-After': '0' })).toBe(1_000);
    expect(wait({ 'Retry-After': new Date(now - 3_600_000).toUTCString() })).toBe(1_000);
    expect(wait({ 'Retry-After': '86400' })).toBe(300_000);
    expect(wait({ 'Retry-After': new Date(now + 86_400_000 * 365).toUTCString() })).toBe(300_000);
  });

  it('parses header values strictly', () => {
    expect(parseRetryAfter('-5', now)).toBeNull();
    expect(parseRetryAfter('1.5', now)).toBe(1_500);
    expect(parseRetryAfter('', now)).toBeNull();
    expect(parseRetryAfter('Wed, 99 Foo 2026', now)).toBeNull();
    expect(parseReset('abc', now)).toBeNull();
    expect(parseReset(undefined, now)).toBeNull();
  });
});
