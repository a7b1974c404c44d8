// What the classifier and the redactor hand on is clean: no secret, no hostile call number,
// no redirect target's credentials.
import { describe, expect, it } from 'vitest';
import { REDACTED, Secrets } from '../../server/log';
import { classify, describeLocation, type HttpAttempt } from '../../shared/delivery/outcome';

const ctx = { now: Date.parse('2026-11-30T12:00:00Z'), windowMs: 60_000 };
const res = (status: number, body: unknown, headers: Record<string, string> = {}): HttpAttempt => ({
  kind: 'response',
  status,
  headers,
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

describe('call numbers', () => {
  it('keeps a plain number and a short id of letters, digits and "-"', () => {
    expect(classify(res(201, { callId: 501 }), ctx)).toEqual({ type: 'sent', callId: 501 });
    expect(classify(res(201, { callId: 'CAD-2026-77' }), ctx)).toEqual({
      type: 'sent',
      callId: 'CAD-2026-77',
    });
  });

  it.each([
    ['markup and colour codes', `^1<b>${'9'.repeat(5_060)}</b>`],
    ['too long', 'A'.repeat(33)],
    ['spaces', '12 34'],
    ['a fraction', 1.5],
    ['negative', -4],
    ['an object', { id: 1 }],
    ['null', null],
  ])('shows "unknown" for a callId that is %s', (_, callId) => {
    expect(classify(res(201, { callId }), ctx)).toEqual({ type: 'sent', callId: 'unknown' });
  });

  it('counts a 2xx whose body was lost as created, with an unknown number', () => {
    const attempt: HttpAttempt = {
      kind: 'response',
      status: 201,
      headers: {},
      body: '',
      bodyLost: 'timed out',
    };
    expect(classify(attempt, ctx)).toEqual({ type: 'sent', callId: 'unknown' });
  });
});

describe('redirects', () => {
  it.each([301, 302, 303, 307, 308])('%i is retried, naming where it points', (status) => {
    const out = classify(
      res(status, '', { Location: 'https://admin:pw@cad.example.com/v2/x?key=abc#frag' }),
      ctx,
    );
    expect(out).toEqual({
      type: 'retry',
      reason: `HTTP ${status} redirect to https://…@cad.example.com/v2/x?…#…, not followed: check api.baseUrl in config.json`,
      problem: { status },
    });
  });

  it('says when there is no usable Location', () => {
    expect(describeLocation(undefined)).toBe('(no Location header)');
    expect(describeLocation('::nonsense')).toBe('(an unreadable Location header)');
    expect(describeLocation(`https://x.example/${'a'.repeat(300)}`)).toHaveLength(200);
  });
});

describe('Secrets', () => {
  const key = 'f3c9a1e2-5b7d-4e8f-9a0b-1c2d3e4f5a6b';
  const secrets = new Secrets();
  secrets.set('apiKey', key);

  it('redacts the key as it is, JSON-escaped, percent-encoded and cut short', () => {
    expect(secrets.redact(`Bearer ${key}`)).toBe(`Bearer ${REDACTED}`);
    expect(secrets.redact(`header "${key.slice(0, 14)}…"`)).toBe(`header "${REDACTED}…"`);
    expect(secrets.redact(`…${key.slice(-13)} end`)).toBe(`…${REDACTED} end`);
    const odd = new Secrets();
    odd.set('apiKey', 'a"b\\c/d e');
    expect(odd.redact(JSON.stringify({ detail: 'a"b\\c/d e' }))).toBe(`{"detail":"${REDACTED}"}`);
    expect(odd.redact(`https://x/?k=${encodeURIComponent('a"b\\c/d e')}`)).toBe(
      `https://x/?k=${REDACTED}`,
    );
  });

  it('takes more secrets by name, and replaces a changed one', () => {
    const s = new Secrets();
    s.set('apiKey', 'old-key-1234');
    s.set('webhook', 'https://discord.example/hook/abcdef');
    s.set('apiKey', 'new-key-5678');
    expect(s.redact('old-key-1234 new-key-5678 https://discord.example/hook/abcdef')).toBe(
      `old-key-1234 ${REDACTED} ${REDACTED}`,
    );
  });

  it('leaves text alone when no secret is set, and ignores secrets too short to redact', () => {
    const s = new Secrets();
    s.set('apiKey', '', 'ab');
    expect(s.redact('ab cd')).toBe('ab cd');
  });
});
