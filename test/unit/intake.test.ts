import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../sandbox/support/clock';
import type { CallResult } from '../../server/dispatch';
import type { Character } from '../../server/framework/types';
import { createIntake, PHONE_WAIT_MS } from '../../server/intake';
import { createLocator } from '../../server/locate';
import type { NoteMeta } from '../../server/notes';
import type { ScriptCall } from '../../server/request';
import type { World } from '../../server/world';
import type { DispatchCall } from '../../shared/call/contract';
import type { NoteRequest } from '../../shared/call/note';
import { defaultMessages } from '../../shared/config/locale';
import { configSchema } from '../../shared/config/schema';
import type { Pause } from '../../shared/delivery/scheduler';
import { Cooldowns } from '../../shared/guards/cooldown';
import { Incidents } from '../../shared/merge/incidents';

const config = configSchema.parse({});
const [command] = config.commands;
const bank = { x: 425.1, y: -979.2, z: 30.7 };
const names = {
  ...bank,
  heading: 90,
  street: 'Alta St',
  crossing: 'Integrity Way',
  zone: 'Downtown',
};

/** The intake with every part it touches faked: no emulator, no CAD, a fake clock. */
function rig(
  over: {
    down?: string | null;
    position?: typeof bank | null;
    config?: typeof config;
    character?: Character | null;
    items?: number | null;
    responders?: number[];
    phoneLookup?: Promise<string | null>;
    /** Merging on, with the default settings. */
    merge?: boolean;
    /** Where the server sees a player, when not at the bank. */
    positions?: Record<number, typeof bank>;
    /** The notes lane refuses every note (its queue is full). */
    notesFull?: boolean;
  } = {},
) {
  const clock = new FakeClock();
  const told: [number, string][] = [];
  const queued: { id: string; call: DispatchCall; holdMs: number }[] = [];
  const amended: { id: string; call: DispatchCall }[] = [];
  const asked: [number, string][] = [];
  const waiting = new Map<string, DispatchCall>();
  const alsoTold: { id: string; callback: (r: CallResult) => void }[] = [];
  const waitingNotes = new Map<string, NoteRequest>();
  const notes: { id: string; note: NoteRequest; meta: NoteMeta }[] = [];
  const incidents = over.merge
    ? new Incidents({ radiusMeters: 100, windowMs: 300_000, sameCommand: true })
    : null;
  const world = {
    playerExists: () => true,
    playerName: (p: number) => (p === 3 ? 'Jo Bloggs' : `Player ${p}`),
    identifiers: (p: number) => [`license:p${p}`],
    position: (p: number) =>
      over.positions?.[p] ?? (over.position === undefined ? bank : over.position),
    aceAllowed: () => false,
  } as unknown as World;
  let n = 0;
  const locator = createLocator({
    ask: (player, nonce) => asked.push([player, nonce]),
    timers: clock.timers_,
    newNonce: () => `nonce-${++n}`,
    timeoutMs: 1_500,
  });
  const alerts: { id: string; call: DispatchCall; words: string; caller: number | null }[] = [];
  const intake = createIntake({
    world,
    config: over.config ?? config,
    messages: defaultMessages,
    formats: { ...config.location, unknownLocation: '?', nearPostal: 'Near postal {postal}' },
    down: (_pause: Pause | null) => over.down ?? null,
    dispatch: {
      enqueue: (id, call, _meta, holdMs) => {
        queued.push({ id, call, holdMs });
        waiting.set(id, call);
        return { ok: true, position: 0, waitMs: 0 };
      },
      alsoTell: (id, callback) => alsoTold.push({ id, callback }),
      scheduler: {
        status: () => ({ pause: null }) as never,
        amend: (id, call) => {
          amended.push({ id, call });
          return true;
        },
        peek: (id) => waiting.get(id) ?? null,
        update: (id, call) => {
          if (!waiting.has(id)) return false;
          waiting.set(id, call);
          return true;
        },
      },
    },
    locator,
    postals: { nearest: () => '8055' },
    notifier: { messages: defaultMessages, tell: (player, key) => told.push([player, key]) },
    cooldowns: new Cooldowns(),
    characters: {
      caller: () => over.character ?? null,
      itemCount: () => (over.items === undefined ? null : over.items),
      phoneLookup: () => over.phoneLookup ?? null,
    },
    responders: {
      alert: (id, call, words, alert, caller) => {
        if (alert === null) return 0;
        alerts.push({ id, call, words, caller });
        return over.responders?.length ?? 0;
      },
      count: (alert) => (alert === null ? 0 : (over.responders?.length ?? 0)),
    },
    incidents,
    notes: {
      enqueue: (id, note, meta) => {
        if (over.notesFull) return { ok: false, reason: 'full', waitMs: 60_000 };
        notes.push({ id, note, meta });
        waitingNotes.set(id, note);
        return { ok: true, position: 0, waitMs: 0 };
      },
      scheduler: {
        peek: (id) => waitingNotes.get(id) ?? null,
        update: (id, note) => {
          if (!waitingNotes.has(id)) return false;
          waitingNotes.set(id, note);
          return true;
        },
      },
    },
    followUps: new Cooldowns(),
    log: { info: () => {}, warn: () => {}, error: () => {} },
    now: clock.now,
    newId: () => `req-${++n}`,
  });
  return {
    intake,
    told,
    queued,
    amended,
    asked,
    locator,
    alerts,
    waiting,
    notes,
    incidents,
    clock,
    alsoTold,
    waitingNotes,
  };
}

const report = { kind: 'report', player: 3, command: command!, typed: true } as const;

describe('intake', () => {
  it('builds a typed report at the server view with the client names, and tells the player', () => {
    const { intake, told, queued } = rig();
    const answer = intake.take({ ...report, words: 'shots fired', claimed: names });
    expect(answer).toMatchObject({ ok: true, position: 1 });
    expect(queued[0]?.holdMs).toBe(0);
    expect(queued[0]?.call).toMatchObject({ address: 'Alta St, Downtown', postal: '8055' });
    expect(queued[0]?.call.metaData).toMatchObject({ heading: '90', callerName: 'Jo Bloggs' });
    expect(told).toEqual([[3, 'received']]);
  });

  it('starts the cooldown only for an accepted call', () => {
    const { intake, told } = rig();
    intake.take({ ...report, words: '', claimed: names });
    intake.take({ ...report, words: 'one', claimed: names });
    intake.take({ ...report, words: 'two', claimed: names });
    expect(told.map(([, key]) => key)).toEqual(['usage', 'received', 'cooldown']);
  });

  it('holds a report without a place, then amends it with what the client says', () => {
    const { intake, queued, amended, asked, locator } = rig();
    intake.take({ ...report, words: 'help', claimed: null, typed: false });
    expect(queued[0]?.holdMs).toBe(1_500);
    expect(queued[0]?.call.address).toBe('Near postal 8055');
    locator.answer(3, { nonce: asked[0]![1], location: names });
    expect(amended[0]?.call.address).toBe('Alta St, Downtown');
  });

  it('says the line is down to a player before anything else, to a script after its input', () => {
    const player = rig({ down: 'no API key' });
    expect(player.intake.take({ ...report, words: '', claimed: null })).toEqual({
      ok: false,
      error: 'the emergency line is unavailable: no API key',
    });
    expect(player.told).toEqual([[3, 'unavailable']]);
    const script = rig({ down: 'no API key' });
    const call = {
      kind: 'script',
      resource: 'alarms',
      player: null,
      template: { ...config.exportDefaults, title: 'Alarm' },
      words: '',
      coords: bank,
    } as const;
    expect(script.intake.take(call)).toMatchObject({ error: expect.stringMatching(/target/) });
    const targeted = { ...call, template: { ...call.template, communityUserIds: ['dispatch'] } };
    expect(script.intake.take(targeted)).toMatchObject({ error: /unavailable: no API key/ });
  });
});

const ann: Character = {
  firstName: 'Ann',
  lastName: 'Smith',
  phone: '555-0101',
  job: null,
  dead: false,
  lastStand: false,
  cuffed: false,
};
/** The default /911 with who-may-call settings over it. */
const gated = (over: Record<string, unknown>) => {
  const parsed = configSchema.parse({ commands: [{ name: '911', ...over }] });
  return { config: parsed, command: parsed.commands[0]! };
};

describe('intake in character', () => {
  it('names the character and the number to call back, to the dispatcher and in metaData', () => {
    const { intake, queued } = rig({ character: ann });
    intake.take({ ...report, words: 'shots fired', claimed: names });
    const call = queued[0]!.call;
    expect(call.description).toBe('shots fired\nCaller: Ann Smith\nCallback: 555-0101');
    expect(call.metaData).toMatchObject({ callerName: 'Ann Smith', callerPhone: '555-0101' });
  });

  it('leaves out what is not known, and sends neither name nor number for an anonymous command', () => {
    const noPhone = rig({ character: { ...ann, phone: null } });
    noPhone.intake.take({ ...report, words: 'shots fired', claimed: names });
    expect(noPhone.queued[0]!.call.description).toBe('shots fired\nCaller: Ann Smith');
    const { config: c, command: anonymous } = gated({ anonymous: true, communityUserIds: ['d'] });
    const anon = rig({ character: ann, config: c });
    anon.intake.take({ ...report, command: anonymous, words: 'shots fired', claimed: names });
    const call = anon.queued[0]!.call;
    expect(call.description).toBe('shots fired');
    expect(call.metaData?.callerName).toBe('Anonymous');
    expect(call.metaData).not.toHaveProperty('callerPhone');
  });

  it('refuses a downed or handcuffed caller when the command says so, and tells them why', () => {
    const { config: c, command } = gated({ downed: 'refuse', cuffed: 'refuse' });
    const down = rig({ config: c, character: { ...ann, lastStand: true } });
    const answer = down.intake.take({ ...report, command, words: 'help', claimed: names });
    expect(answer).toMatchObject({ ok: false });
    expect(down.queued).toEqual([]);
    expect(down.told).toEqual([[3, 'downed']]);
    const cuffed = rig({ config: c, character: { ...ann, cuffed: true } });
    cuffed.intake.take({ ...report, command, words: 'help', claimed: names });
    expect(cuffed.told).toEqual([[3, 'cuffed']]);
    // The defaults let both through.
    const open = rig({ character: { ...ann, dead: true, cuffed: true } });
    open.intake.take({ ...report, words: 'help', claimed: names });
    expect(open.told).toEqual([[3, 'received']]);
  });

  it('sends a distress call for a downed caller who types nothing, handcuffs and phone aside', () => {
    const { config: c, command } = gated({
      downed: 'distress',
      cuffed: 'refuse',
      phoneItem: 'phone',
    });
    const { intake, queued, told } = rig({
      config: c,
      character: { ...ann, dead: true, cuffed: true },
      items: 0,
    });
    intake.take({ ...report, command, words: '', claimed: names });
    expect(queued[0]!.call).toMatchObject({
      title: 'Person down',
      priority: 1,
      description: `${defaultMessages.distressWords}\nCaller: Ann Smith\nCallback: 555-0101`,
    });
    expect(told).toEqual([[3, 'received']]);
    // Standing up again, the same player's empty /911 is a usage hint as before.
    const up = rig({ config: c, character: ann, items: 1 });
    up.intake.take({ ...report, command, words: '', claimed: names });
    expect(up.told).toEqual([[3, 'usage']]);
  });

  it('needs the phone item when the command names one, unless no inventory can say', () => {
    const { config: c, command } = gated({ phoneItem: ['phone', 'radio'] });
    const none = rig({ config: c, character: ann, items: 0 });
    none.intake.take({ ...report, command, words: 'help', claimed: names });
    expect(none.told).toEqual([[3, 'noPhoneItem']]);
    const unknown = rig({ config: c, character: ann, items: null });
    unknown.intake.take({ ...report, command, words: 'help', claimed: names });
    expect(unknown.told).toEqual([[3, 'received']]);
  });

  it('does not gate a call another resource raised for a player (report911)', () => {
    const { config: c, command } = gated({ downed: 'refuse', phoneItem: 'phone' });
    const { intake, queued } = rig({ config: c, character: { ...ann, dead: true }, items: 0 });
    intake.take({ ...report, command, words: 'help', claimed: null, typed: false });
    expect(queued).toHaveLength(1);
  });

  it('holds a call briefly for a number the phone resource is still looking up', async () => {
    const { intake, queued, amended } = rig({
      character: { ...ann, phone: null },
      phoneLookup: Promise.resolve('555-0199'),
    });
    intake.take({ ...report, words: 'shots fired', claimed: names });
    expect(queued[0]?.holdMs).toBe(PHONE_WAIT_MS);
    expect(queued[0]?.call.metaData).not.toHaveProperty('callerPhone');
    await Promise.resolve();
    expect(amended[0]?.call.metaData?.callerPhone).toBe('555-0199');
    expect(amended[0]?.call.description).toBe('shots fired\nCaller: Ann Smith\nCallback: 555-0199');
  });

  it('alerts responders (not the caller) and tells the caller how many', () => {
    const { intake, told, alerts } = rig({ character: ann, responders: [7, 9] });
    intake.take({ ...report, words: 'shots fired', claimed: names });
    expect(alerts).toMatchObject([{ words: 'shots fired', caller: 3 }]);
    expect(told).toEqual([
      [3, 'received'],
      [3, 'alertedMany'],
    ]);
  });

  it('alerts responders of a held call once the client named the place', () => {
    const { intake, alerts, asked, locator, told } = rig({ responders: [7] });
    intake.take({ ...report, words: 'help', claimed: null, typed: false });
    expect(alerts).toEqual([]);
    expect(told).toEqual([
      [3, 'received'],
      [3, 'alertedOne'],
    ]);
    locator.answer(3, { nonce: asked[0]![1], location: names });
    expect(alerts[0]?.call.address).toBe('Alta St, Downtown');
  });
});

describe('intake merging (one incident, one call)', () => {
  const at = (x: number, y: number) => ({ ...names, x, y });

  it('folds a nearby report into the call while it waits: no new call, the caller told', () => {
    const r = rig({ merge: true, positions: { 4: { ...bank, x: bank.x + 30 } } });
    r.intake.take({ ...report, words: 'shots fired', claimed: names });
    const answer = r.intake.take({
      ...report,
      player: 4,
      words: 'I hear gunshots too',
      claimed: at(bank.x + 30, bank.y),
    });
    expect(answer).toMatchObject({ ok: true, merged: true, callId: null });
    expect(r.queued).toHaveLength(1);
    const call = r.waiting.get(r.queued[0]!.id)!;
    expect(call.notes).toMatchObject([
      { label: 'Player 4', type: 'text', content: 'I hear gunshots too' },
    ]);
    expect(r.told).toEqual([
      [3, 'received'],
      [4, 'mergedPending'],
    ]);
  });

  it('adds a note once the CAD created the call, carrying the call to send if it is gone', () => {
    const r = rig({ merge: true });
    r.intake.take({ ...report, words: 'shots fired', claimed: names });
    const id = r.queued[0]!.id;
    r.waiting.delete(id);
    r.incidents!.created(id, 1001);
    r.intake.take({ ...report, player: 4, words: 'one suspect fled north', claimed: names });
    expect(r.notes[0]?.note).toMatchObject({
      callId: 1001,
      note: 'Player 4: one suspect fled north',
      noteType: 'text',
      fallback: { description: 'one suspect fled north' },
    });
    expect(r.notes[0]?.meta).toMatchObject({ player: 4, incident: id });
    expect(r.told.at(-1)).toEqual([4, 'merged']);
  });

  it('holds a report on a call in flight as a note waiting for its number, not a second call', () => {
    const r = rig({ merge: true });
    r.intake.take({ ...report, words: 'shots fired', claimed: names });
    r.waiting.clear();
    const answer = r.intake.take({ ...report, player: 4, words: 'shots', claimed: names });
    expect(answer).toMatchObject({ ok: true, merged: true, callId: null });
    expect(r.queued).toHaveLength(1);
    expect(r.notes[0]?.note).toMatchObject({ callId: null, note: 'Player 4: shots' });
    expect(r.incidents!.get(r.queued[0]!.id)).toMatchObject({
      noteId: r.notes[0]!.id,
      waiting: [4],
    });
    expect(r.told.at(-1)).toEqual([4, 'mergedPending']);
  });

  it('lets several reports share one note while it waits, the fallback carrying them all', () => {
    const r = rig({ merge: true });
    r.intake.take({ ...report, words: 'shots fired', claimed: names });
    const id = r.queued[0]!.id;
    r.waiting.delete(id);
    r.incidents!.created(id, 1001);
    r.intake.take({ ...report, player: 4, words: 'one suspect fled north', claimed: names });
    r.intake.take({ ...report, player: 5, words: 'he wears a red cap', claimed: names });
    expect(r.notes).toHaveLength(1);
    const shared = r.waitingNotes.get(r.notes[0]!.id)!;
    expect(shared.note).toBe('Player 4: one suspect fled north\nPlayer 5: he wears a red cap');
    expect(shared.fallback.notes).toMatchObject([
      { label: 'Player 5', content: 'he wears a red cap' },
    ]);
    // Once that note is on its way, the next report starts a new one.
    r.waitingNotes.clear();
    r.intake.take({ ...report, player: 6, words: 'ambulance needed', claimed: names });
    expect(r.notes).toHaveLength(2);
  });

  it("takes a caller's second report as a follow-up wherever they stand, past the cooldown, not faster than the limit", () => {
    const positions: Record<number, typeof bank> = {};
    const r = rig({ merge: true, positions });
    r.intake.take({ ...report, words: 'shots fired', claimed: names });
    positions[3] = { x: 3000, y: 3000, z: 30 };
    r.intake.take({ ...report, words: 'they drove off east', claimed: at(3000, 3000) });
    expect(r.queued).toHaveLength(1);
    expect(r.waiting.get(r.queued[0]!.id)!.notes).toHaveLength(1);
    r.intake.take({ ...report, words: 'and again', claimed: names });
    expect(r.told.map(([, k]) => k)).toEqual(['received', 'mergedPending', 'cooldown']);
  });

  it('opens a call of its own far away, for another command, or with merging off', () => {
    const away = { ...bank, x: bank.x + 150 };
    const far = rig({ merge: true, positions: { 4: away } });
    far.intake.take({ ...report, words: 'shots fired', claimed: names });
    far.intake.take({ ...report, player: 4, words: 'fire', claimed: at(away.x, away.y) });
    expect(far.queued).toHaveLength(2);
    const other = rig({ merge: true });
    other.intake.take({ ...report, words: 'shots fired', claimed: names });
    other.intake.take({
      ...report,
      player: 4,
      command: config.commands[1]!,
      words: 'noise',
      claimed: names,
    });
    expect(other.queued).toHaveLength(2);
    const off = rig();
    off.intake.take({ ...report, words: 'shots fired', claimed: names });
    off.intake.take({ ...report, player: 4, words: 'shots', claimed: names });
    expect(off.queued).toHaveLength(2);
  });
});

describe('intake merging of script calls', () => {
  const alarm = (over: Partial<ScriptCall> = {}): ScriptCall => ({
    kind: 'script',
    resource: 'heists',
    player: null,
    template: { ...config.exportDefaults, title: 'Vault alarm', communityUserIds: ['dispatch'] },
    words: 'silent alarm',
    coords: bank,
    ...over,
  });

  it('joins calls of one incident key wherever they are, and keeps merge: false apart', () => {
    const r = rig({ merge: true });
    r.intake.take(alarm({ incidentKey: 'heist-7' }));
    const results: CallResult[] = [];
    const joined = r.intake.take(
      alarm({
        incidentKey: 'heist-7',
        coords: { x: 3000, y: 3000, z: 1 },
        callback: (x: CallResult) => results.push(x),
      }),
    );
    expect(joined).toMatchObject({ ok: true, merged: true });
    expect(r.queued).toHaveLength(1);
    // The script's callback hears the call's final answer under its own id.
    r.alsoTold[0]!.callback({ ok: true, id: r.queued[0]!.id, callId: 1001 });
    expect(results).toEqual([{ ok: true, id: (joined as { id: string }).id, callId: 1001 }]);
    r.intake.take(alarm({ incidentKey: 'heist-8' }));
    r.intake.take(alarm({ merge: false }));
    expect(r.queued).toHaveLength(3);
  });

  it('keeps incident keys per resource, and opens a call when the notes queue is full', () => {
    const r = rig({ merge: true });
    r.intake.take(alarm({ incidentKey: '1' }));
    r.intake.take(alarm({ incidentKey: '1', resource: 'other-heists' }));
    expect(r.queued).toHaveLength(2);
    const full = rig({ merge: true, notesFull: true });
    full.intake.take({ ...report, words: 'shots fired', claimed: names });
    const id = full.queued[0]!.id;
    full.waiting.delete(id);
    full.incidents!.created(id, 1001);
    const answer = full.intake.take({ ...report, player: 4, words: 'more shots', claimed: names });
    expect(answer).toMatchObject({ ok: true });
    expect(answer).not.toHaveProperty('merged');
    expect(full.queued).toHaveLength(2);
  });

  it('merges a script call by distance with calls of the same code only', () => {
    const r = rig({ merge: true });
    r.intake.take(alarm());
    r.intake.take(alarm({ words: 'second sensor' }));
    expect(r.queued).toHaveLength(1);
    r.intake.take(alarm({ template: { ...alarm().template, code: 'FIRE' } }));
    expect(r.queued).toHaveLength(2);
  });
});
