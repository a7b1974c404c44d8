// The transport against the local CAD stand-in: what reaches the classifier is the CAD's
// verdict as sent, never followed elsewhere, and without a secret in it.
import { afterEach, describe, expect, it } from 'vitest';
import { type LocalCad, startLocalCad } from '../../sandbox/cad/index';
import { Secrets } from '../../server/log';
import { createNoteTransport, createTransport } from '../../server/transport';
import type { DispatchCall } from '../../shared/call/contract';
import { classify } from '../../shared/delivery/outcome';

const KEY = 'unit-key-0123456789abcdef';
const call: DispatchCall = {
  origin: 0,
  status: 1,
  priority: 1,
  block: 'Alta St',
  address: 'Alta St, Downtown',
  postal: '8055',
  title: '911 Call',
  code: '911',
  description: 'test',
  notes: [],
  communityUserIds: ['caller'],
  metaData: { requestId: 'req-1' },
};

const open: LocalCad[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

async function setup(key = KEY) {
  const cad = await startLocalCad({ keys: { [key]: { serverIds: [1] } } });
  open.push(cad);
  const secrets = new Secrets();
  secrets.set('apiKey', key);
  const notices: string[] = [];
  const send = createTransport({
    baseUrl: cad.url,
    apiKey: () => key,
    serverId: () => 1,
    timeoutMs: 1_000,
    redact: (t) => secrets.redact(t),
    notice: (m) => notices.push(m),
  });
  return { cad, send, notices };
}

const ctx = { now: 0, windowMs: 60_000 };

describe('transport', () => {
  it('hands on a redirect as it came, Location made absolute, without following it', async () => {
    const { cad, send } = await setup();
    const target = await startLocalCad();
    open.push(target);
    cad.failNext(1, {
      redirect: `${target.url}/v2/emergency/servers/1/dispatch-calls`,
      status: 307,
    });
    cad.failNext(1, { redirect: '/elsewhere?k=1', status: 302 });
    const first = await send(call);
    expect(first).toMatchObject({ kind: 'response', status: 307 });
    expect(target.requests).toHaveLength(0);
    const second = await send(call);
    expect(second.kind === 'response' && second.headers.location).toBe(`${cad.url}/elsewhere?k=1`);
    expect(classify(second, ctx)).toMatchObject({
      type: 'retry',
      reason: expect.stringContaining(`redirect to ${cad.url}/elsewhere?…`),
    });
    expect(cad.requests).toHaveLength(2);
  });

  it.each([
    ['stall-body', 'timed out'],
    ['reset-body', expect.any(String)],
  ] as const)(
    'reports a 201 whose body is lost (%s) as created, and says so',
    async (fault, lost) => {
      const { cad, send, notices } = await setup();
      cad.failNext(1, fault);
      const attempt = await send(call);
      expect(attempt).toMatchObject({ kind: 'response', status: 201, body: '', bodyLost: lost });
      expect(classify(attempt, ctx)).toEqual({ type: 'sent', callId: 'unknown' });
      expect(cad.calls).toHaveLength(1);
      expect(notices).toEqual([
        expect.stringMatching(
          /^call req-1: the CAD answered HTTP 201 \(created\) but the rest of its answer was lost/,
        ),
      ]);
    },
  );

  it('redacts the key from an error fetch raises about the header', async () => {
    const broken = `${KEY.slice(0, 12)}\n${KEY.slice(12)}`;
    const { send } = await setup(broken);
    const attempt = await send(call);
    expect(attempt.kind).toBe('network');
    const out = classify(attempt, ctx);
    expect(JSON.stringify(out)).toContain('[redacted]');
    expect(JSON.stringify(out)).not.toContain(KEY.slice(0, 12));
    expect(JSON.stringify(out)).not.toContain(KEY.slice(12));
  });

  it('redacts the key from a refusal that quotes it JSON-escaped, as ASP.NET writes + and /', async () => {
    const key = 'b64+key/with=padding+0123456789';
    const { cad, send } = await setup(key);
    cad.failNext(1, 'echo-key-escaped');
    const attempt = await send(call);
    // The raw body held "b64\u002Bkey\u002Fwith..." - no plain copy of the key to find.
    const out = classify(attempt, ctx);
    expect(out).toMatchObject({ type: 'rejected' });
    expect(JSON.stringify(out)).not.toContain('key/with');
    expect(out.type === 'rejected' && out.problem.detail).toBe(
      'Malformed request header: Authorization: Bearer [redacted]',
    );
  });

  it('redacts the key from a refusal that quotes it', async () => {
    const { cad, send } = await setup();
    cad.failNext(1, 'echo-key');
    const out = classify(await send(call), ctx);
    expect(out).toMatchObject({
      type: 'rejected',
      reason: 'Malformed request header: Authorization: Bearer [redacted]',
    });
    expect(JSON.stringify(out)).not.toContain(KEY);
  });
});

describe('note transport', () => {
  it('adds a note to a created call with only the note fields, and reads 404 for a closed one', async () => {
    const { cad, send } = await setup();
    const note = createNoteTransport({
      baseUrl: cad.url,
      apiKey: () => KEY,
      serverId: () => 1,
      timeoutMs: 1_000,
    });
    const created = classify(await send(call), ctx);
    expect(created).toMatchObject({ type: 'sent' });
    const callId = cad.calls[0]!.callId;
    const request = {
      priority: 1,
      callId,
      note: 'Jo Bloggs: shots fired again',
      noteType: 'text',
      label: '911',
      fallback: call,
      players: [],
    };
    const added = classify(await note(request), ctx);
    expect(added).toMatchObject({ type: 'sent', callId });
    expect(cad.notes[0]?.body).toEqual({
      note: 'Jo Bloggs: shots fired again',
      noteType: 'text',
      label: '911',
    });
    cad.closeCall(callId);
    const gone = classify(await note(request), ctx);
    expect(gone).toMatchObject({ type: 'rejected' });
    expect(gone.type === 'rejected' && gone.problem.status).toBe(404);
  });
});
