/**
 * What an operator reads from `sonoran911 status | queue | dead [page]` when a call keeps
 * failing or thousands were refused: the stalled call by name, and pages instead of floods
 * (in chat, every line is one message to the admin).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { op, playersReady, RESOURCE, type Rig, said, startRig } from './rig';

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

const CALL = 'outbox:call:';
const callKeys = (r: Rig) => [...r.fx.kvp(RESOURCE).keys()].filter((k) => k.startsWith(CALL));

/** The parts of an outbox record these tests change. */
interface OutboxRecord {
  job: { id: string; seq: number; call: { priority: number } };
  dead?: { at: number; problem: object };
}

/** One real record of the given state, to copy under other ids. */
async function oneRecord(r: Rig, state: 'dead' | 'pending'): Promise<OutboxRecord> {
  const [p] = await playersReady(r, 1);
  if (state === 'dead') r.cad.failNext(1, { status: 400, body: { detail: 'refused' } });
  else r.cad.setOutage({ status: 503 });
  p!.type('/911 the first call');
  await r.fx.waitFor(
    () =>
      said(p!, state === 'dead' ? /could not accept/ : /received/) &&
      r.cad.requests.length > 0 &&
      /, 0 in flight/.test(op(r, 'sonoran911 status')[0]!),
    { what: `a ${state} record` },
  );
  const [key] = callKeys(r);
  return JSON.parse(r.fx.kvp(RESOURCE).get(key!)!);
}

/** `n` copies of `record` under ids 00000000-... to n-1, the later ones newer. */
function seed(
  r: Rig,
  record: OutboxRecord,
  n: number,
  edit: (copy: Required<OutboxRecord>, i: number) => void,
) {
  const kvp = r.fx.kvp(RESOURCE);
  for (const key of callKeys(r)) kvp.delete(key);
  for (let i = 0; i < n; i++) {
    const copy = structuredClone(record);
    copy.job.id = `${String(i).padStart(8, '0')}-0000-4000-8000-000000000000`;
    copy.job.seq = i;
    edit(copy as Required<OutboxRecord>, i);
    kvp.set(CALL + copy.job.id, JSON.stringify(copy));
  }
}

describe('sonoran911 dead [page]', () => {
  it('lists 20 dead letters per page, newest first, saying which page of how many', async () => {
    rig = await startRig();
    const record = await oneRecord(rig, 'dead');
    seed(rig, record, 45, (copy, i) => {
      copy.dead.at = 1_800_000_000_000 + i * 1_000;
      copy.dead.problem = { status: 422, detail: `bad ${i}` };
    });
    rig.restart();
    const first = op(rig, 'sonoran911 dead');
    expect(first).toHaveLength(21);
    expect(first[0]).toBe(
      'dead letters: page 1 of 3 (45 kept, newest first; sonoran911 dead 2 for the next)',
    );
    expect(first[1]).toMatch(/^00000044 \/911 from Caller 0 at .*HTTP 422, bad 44$/);
    const last = op(rig, 'sonoran911 dead 3');
    expect(last[0]).toBe('dead letters: page 3 of 3 (45 kept, newest first)');
    expect(last.slice(1).map((l) => l.slice(0, 8))).toEqual([
      '00000004',
      '00000003',
      '00000002',
      '00000001',
      '00000000',
    ]);
    expect(op(rig, 'sonoran911 dead 4')).toEqual(['dead: no page 4; there are 3 pages']);
  });

  it('keeps 200 of 5,000 dead letters a previous run left in KVP, the newest', async () => {
    rig = await startRig();
    const record = await oneRecord(rig, 'dead');
    seed(rig, record, 5_000, (copy, i) => {
      copy.dead.at = 1_800_000_000_000 + i * 1_000;
    });
    rig.restart();
    expect(callKeys(rig)).toHaveLength(200);
    expect(op(rig, 'sonoran911 status')).toContain(
      'dead letters: 200 (sonoran911 dead lists them)',
    );
    expect(op(rig, 'sonoran911 dead')[1]).toMatch(/^00004999 /);
  }, 20_000);
});

describe('calls that keep failing, as an operator sees them', () => {
  it('status names a stalled call; queue marks it and says how many more wait', async () => {
    rig = await startRig({
      config: { retry: { backoffBaseMs: 60_000 }, rateLimit: { requests: 2 } },
    });
    const record = await oneRecord(rig, 'pending');
    seed(rig, record, 30, (copy) => {
      copy.job.call.priority = 3;
    });
    rig.restart();
    await rig.fx.waitFor(
      () =>
        /\(\d+ stalled\)/.test(op(rig!, 'sonoran911 status')[0]!) &&
        !/\(0 stalled\)/.test(op(rig!, 'sonoran911 status')[0]!),
      { what: 'a stalled call' },
    );
    const status = op(rig, 'sonoran911 status');
    expect(status[1]).toMatch(
      /^stalled: 000000\d\d \(\/911 from Caller 0\) failed \d+ attempt\(s\), last: HTTP 503.*; calls that have not failed go first \(sonoran911 drop 000000\d\d removes it\)$/,
    );
    const queue = op(rig, 'sonoran911 queue');
    expect(queue).toHaveLength(21);
    expect(queue[0]).toMatch(
      /^queue: page 1 of 2 \(\d+ waiting, in send order; sonoran911 queue 2 for the next\)$/,
    );
    // Stalled calls go last, so the operator pages to them.
    const second = op(rig, 'sonoran911 queue 2');
    expect(second[0]).toMatch(/^queue: page 2 of 2/);
    expect(second[1]).toMatch(/^21\. /);
    expect(
      [...queue, ...second].some((l) => /stalled after \d+ attempt\(s\): HTTP 503/.test(l)),
    ).toBe(true);
    expect(op(rig, 'sonoran911 queue 3')).toEqual(['queue: no page 3; there are 2 pages']);
  });
});
