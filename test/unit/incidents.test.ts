import { describe, expect, it } from 'vitest';
import { Incidents } from '../../shared/merge/incidents';

const options = { radiusMeters: 100, windowMs: 300_000, sameCommand: true };
const bank = { x: 425, y: -979 };
const open = (i: Incidents, over: Partial<Parameters<Incidents['opened']>[0]> = {}) =>
  i.opened({
    requestId: 'a',
    kind: '911',
    key: null,
    at: bank,
    caller: 'jo',
    player: 1,
    now: 0,
    ...over,
  });

describe('Incidents', () => {
  it('joins the nearest call of the same kind within the radius and the window', () => {
    const i = new Incidents(options);
    open(i);
    open(i, { requestId: 'b', at: { x: 500, y: -979 }, caller: 'sam', now: 1 });
    expect(
      i.find({ kind: '911', key: null, at: { x: 480, y: -979 }, caller: 'x', now: 10 }),
    ).toMatchObject({ incident: { requestId: 'b' }, why: 'nearby' });
    expect(i.find({ kind: '311', key: null, at: bank, caller: 'x', now: 10 })).toBeNull();
    expect(
      i.find({ kind: '911', key: null, at: { x: 425, y: -850 }, caller: 'x', now: 10 }),
    ).toBeNull();
    expect(i.find({ kind: '911', key: null, at: bank, caller: 'x', now: 300_002 })).toBeNull();
    // Remembered past the window (a unit may still be attached), but joined by no one.
    expect(i.size).toBe(2);
  });

  it("takes a caller's own report as a follow-up from anywhere, of the same kind", () => {
    const i = new Incidents(options);
    open(i);
    const far = { x: 3000, y: 3000 };
    expect(i.find({ kind: '911', key: null, at: far, caller: 'jo', now: 5 })?.why).toBe(
      'follow-up',
    );
    expect(i.find({ kind: '311', key: null, at: far, caller: 'jo', now: 5 })).toBeNull();
    const any = new Incidents({ ...options, sameCommand: false });
    open(any);
    expect(any.find({ kind: '311', key: null, at: far, caller: 'jo', now: 5 })?.why).toBe(
      'follow-up',
    );
  });

  it('joins by incident key whatever the distance; a keyed call takes no one by distance', () => {
    const i = new Incidents(options);
    open(i, { kind: 'ALERT', key: 'heist-7', caller: null, player: null });
    expect(i.find({ kind: 'ALERT', key: 'heist-7', at: null, caller: null, now: 1 })?.why).toBe(
      'key',
    );
    expect(i.find({ kind: 'ALERT', key: 'heist-8', at: bank, caller: null, now: 1 })).toBeNull();
    expect(i.find({ kind: 'ALERT', key: null, at: bank, caller: null, now: 1 })).toBeNull();
  });

  it('remembers who joined, who waits for the number, and forgets an ended call', () => {
    const i = new Incidents(options);
    const incident = open(i);
    i.joined(incident, 'sam', 2, true);
    i.joined(incident, 'sam', 2, true);
    expect(incident).toMatchObject({
      joined: 2,
      callers: ['jo', 'sam'],
      players: [1, 2],
      waiting: [2],
    });
    expect(i.created('a', 1001)).toBe(incident);
    expect(i.byCallId('1001')).toBe(incident);
    i.ended('a');
    expect(i.find({ kind: '911', key: null, at: bank, caller: 'jo', now: 2 })).toBeNull();
  });
});
