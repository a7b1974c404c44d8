/**
 * The riot (issue 12): 100 reports about 5 separate incidents, 20 players each within 50 m of
 * their incident's spot, the spots at least 1 km apart, all 100 arriving within 60 s. Replayed
 * on the simulated clock against a simulated CAD with both lanes (calls 20, notes 60 per
 * rolling 60 s), with the real pieces: Incidents, a Scheduler per lane, and the intake's own
 * join rule (shared/merge/join.ts): folded into the call while it waits, a note once the CAD
 * created it, a call of its own while it is in flight.
 */

import { z } from 'zod';
import { schedulerOptions } from '../sandbox/support/fixtures';
import { buildCall, type LocationFormats, type Report } from '../shared/call/build';
import type { DispatchCall } from '../shared/call/contract';
import { type NoteRequest, noteRequestSchema } from '../shared/call/note';
import { commandSchema } from '../shared/config/schema';
import { MemoryStore, Outbox } from '../shared/delivery/outbox';
import { Scheduler } from '../shared/delivery/scheduler';
import { Incidents, type Place2D } from '../shared/merge/incidents';
import { planJoin } from '../shared/merge/join';
import { prng, SimCad, SimClock } from './sim';

export const RIOT = {
  incidents: 5,
  perIncident: 20,
  /** Every report within this of its incident's spot (m). */
  spreadMeters: 50,
  /** Incident spots at least this far apart (m). */
  apartMeters: 1_000,
  /** Every report arrives within this of the first. */
  arrivalsMs: 60_000,
  calls: 20,
  notes: 60,
  windowMs: 60_000,
  /** config.json's merge: the radius and window reports join within, same command only. */
  merge: { radiusMeters: 100, windowMs: 5 * 60_000, sameCommand: true },
  seed: 12,
};

const command = commandSchema.parse({ name: '911' });
const formats: LocationFormats = {
  addressFormat: '{street}, {zone}',
  blockFormat: '{street} / {crossing}',
  unknownLocation: '?',
  nearPostal: 'Near postal {postal}',
};

interface RiotReport {
  /** Index in arrival order. */
  i: number;
  incident: number;
  at: number;
  place: Place2D;
  name: string;
  key: string;
  words: string;
  call: DispatchCall;
}

/** Spots on the map (GTA V's land spans about -3,500..4,000 x, -4,000..8,000 y), apart. */
function spots(random: () => number): Place2D[] {
  const found: Place2D[] = [];
  while (found.length < RIOT.incidents) {
    const p = { x: -3_000 + random() * 6_500, y: -3_500 + random() * 11_000 };
    if (found.every((q) => Math.hypot(p.x - q.x, p.y - q.y) >= RIOT.apartMeters)) found.push(p);
  }
  return found;
}

/** The 100 reports, in arrival order: times and places from one seeded generator. */
export function riotReports(seed = RIOT.seed): RiotReport[] {
  const random = prng(seed);
  const centres = spots(random);
  const drawn: Omit<RiotReport, 'i' | 'call' | 'name' | 'key' | 'words'>[] = [];
  for (let incident = 0; incident < RIOT.incidents; incident++) {
    for (let k = 0; k < RIOT.perIncident; k++) {
      // Uniform over the disc of radius spreadMeters around the spot.
      const r = RIOT.spreadMeters * Math.sqrt(random());
      const angle = 2 * Math.PI * random();
      const centre = centres[incident]!;
      drawn.push({
        incident,
        at: Math.floor(random() * RIOT.arrivalsMs),
        place: { x: centre.x + r * Math.cos(angle), y: centre.y + r * Math.sin(angle) },
      });
    }
  }
  drawn.sort((a, b) => a.at - b.at);
  return drawn.map((d, i) => {
    const name = `Rioter ${i}`;
    const words = `riot at spot ${d.incident + 1}: people fighting, a car on fire (caller ${i})`;
    const report: Report = {
      template: command,
      description: words,
      position: { ...d.place, z: 30 },
      heading: 0,
      names: { street: `Street ${d.incident + 1}`, crossing: 'Main St', zone: 'Downtown' },
      postal: String(8000 + d.incident),
      caller: { name, playerId: i, communityUserId: `license-${i}` },
      requestId: `c${i}`,
    };
    const built = buildCall(report, formats);
    if (!built.ok) throw new Error(built.error);
    return { ...d, i, name, key: `license:${i}`, words, call: built.call };
  });
}

export interface RiotResult {
  reports: number;
  callsCreated: number;
  notesSent: number;
  folded: number;
  /** From the first report until the last is in the CAD (as a call, folded in one, or a note). */
  lastInMs: number;
  /**
   * The soonest a client sending one request per report (no shared notes) could have had the
   * last report in, without a 429: the CAD admits a lane's (k + limit)-th request at least one
   * window after its k-th, and none before its report was made. Counted over the reports each
   * lane carried in this run.
   */
  boundMs: number;
  /** Reports never in the CAD (none should be). */
  missing: number;
  /** Reports that reached the CAD on another incident's call (none should). */
  misplaced: number;
  calls429: number;
  notes429: number;
  callsMaxInWindow: number;
  notesMaxInWindow: number;
}

export async function riot(merging: boolean, seed = RIOT.seed): Promise<RiotResult> {
  const reports = riotReports(seed);
  const clock = new SimClock();
  const lane = (requests: number, cadSeed: number) =>
    new SimCad(clock, {
      requests,
      windowMs: RIOT.windowMs,
      latency: [80, 400],
      rate5xx: 0,
      rateDrop: 0,
      seed: cadSeed,
    });
  const callsCad = lane(RIOT.calls, seed + 1);
  const notesCad = lane(RIOT.notes, seed + 2);
  const random = prng(seed + 3);
  const options = (requests: number) =>
    schedulerOptions({ requests, windowMs: RIOT.windowMs, maxQueue: 10_000 });
  const incidents = merging ? new Incidents(RIOT.merge) : null;

  /** When each report reached the CAD, by report index. */
  const inAt = new Map<number, number>();
  /** The reports folded into each call (by its queue id) while it waited. */
  const foldedInto = new Map<string, number[]>();
  /** The incident of each CAD call number. */
  const callIncident = new Map<string, number>();
  /** When the reports each lane carried were made. */
  const carried = { calls: [] as number[], notes: [] as number[] };
  let callsCreated = 0;
  let notesSent = 0;
  let misplaced = 0;
  const arrive = (r: RiotReport, callId: number | string) => {
    inAt.set(r.i, clock.now());
    if (callIncident.get(String(callId)) !== r.incident) misplaced++;
  };

  const calls = new Scheduler<number>(
    {
      send: () => callsCad.send(),
      now: clock.now,
      timers: clock.timers_,
      random,
      journal: new Outbox(new MemoryStore(), z.number()),
      onSettled: (job, outcome) => {
        if (outcome.type !== 'sent') return;
        callsCreated++;
        const opener = reports[job.meta]!;
        callIncident.set(String(outcome.callId), opener.incident);
        // As server/index.ts: the incident learns its call was created, and its number.
        const incident = incidents?.created(job.id, outcome.callId);
        // A note held while the call was in flight goes now, naming its number.
        for (const id of incident?.held.splice(0) ?? []) {
          const held = notes.peek(id);
          if (held && held.callId === null) notes.amend(id, { ...held, callId: outcome.callId });
        }
        const folded = foldedInto.get(job.id) ?? [];
        // The body sent carried every report folded in while it waited.
        if (job.call.notes.length !== folded.length)
          throw new Error(`call ${job.id} went out without its folded reports`);
        for (const i of [job.meta, ...folded]) arrive(reports[i]!, outcome.callId);
        carried.calls.push(opener.at);
      },
      onDelayed: () => {},
      onUnauthorized: () => {},
    },
    options(RIOT.calls),
  );
  /** The reports each note carries: several share one while it waits (as the intake does). */
  const sharedBy = new Map<string, number[]>();
  const notes = new Scheduler<number, NoteRequest>(
    {
      send: () => notesCad.send(),
      now: clock.now,
      timers: clock.timers_,
      random,
      journal: new Outbox<number, NoteRequest>(new MemoryStore(), z.number(), {
        payload: noteRequestSchema,
        prefix: 'outbox:note:',
        budgetKey: 'outbox:note-budget',
      }),
      onSettled: (job, outcome) => {
        if (outcome.type !== 'sent') return;
        notesSent++;
        // Every report that shared this note arrives with it.
        for (const i of sharedBy.get(job.id) ?? [job.meta]) {
          arrive(reports[i]!, job.call.callId ?? 'none');
          carried.notes.push(reports[i]!.at);
        }
      },
      onDelayed: () => {},
      onUnauthorized: () => {},
    },
    options(RIOT.notes),
  );

  /**
   * What intake.joinIncident and the report path do with one report. Each rioter reports once,
   * so neither the command's cooldown nor the follow-up limit ever applies.
   */
  const take = (r: RiotReport) => {
    const now = clock.now();
    const match = incidents?.find({
      kind: command.name,
      key: null,
      at: r.place,
      caller: r.key,
      now,
    });
    if (incidents && match) {
      const { incident } = match;
      const join = planJoin(
        incident,
        () => calls.peek(incident.requestId),
        {
          call: r.call,
          name: r.name,
          words: r.words,
          time: new Date(now).toISOString(),
          player: r.i,
        },
        (noteId) => notes.peek(noteId),
      );
      if (join?.as === 'fold') {
        calls.update(incident.requestId, join.call);
        foldedInto.set(incident.requestId, [...(foldedInto.get(incident.requestId) ?? []), r.i]);
        incidents.joined(incident, r.key, r.i, true);
        return;
      }
      if (join?.as === 'share') {
        notes.update(join.noteId, join.note);
        sharedBy.get(join.noteId)?.push(r.i);
        incidents.joined(incident, r.key, r.i, false);
        return;
      }
      if (join?.as === 'note') {
        // As the intake: a note for a call in flight waits for its number.
        notes.enqueue(`n${r.i}`, join.note, r.i, join.note.callId === null ? 600_000 : 0);
        sharedBy.set(`n${r.i}`, [r.i]);
        incident.noteId = `n${r.i}`;
        if (join.note.callId === null) incident.held.push(`n${r.i}`);
        incidents.joined(incident, r.key, r.i, false);
        return;
      }
    }
    const id = `c${r.i}`;
    if (!calls.enqueue(id, r.call, r.i).ok) throw new Error(`call ${id} refused: queue full`);
    incidents?.opened({
      requestId: id,
      kind: command.name,
      key: null,
      at: r.place,
      caller: r.key,
      player: r.i,
      now,
    });
  };

  const first = reports[0]!.at;
  for (const r of reports) clock.timers_.set(() => take(r), r.at);
  await clock.run(3_600_000, () => inAt.size === reports.length);
  const lastIn = Math.max(...inAt.values());
  return {
    reports: reports.length,
    callsCreated,
    notesSent,
    folded: [...foldedInto.values()].reduce((n, list) => n + list.length, 0),
    lastInMs: lastIn - first,
    boundMs:
      Math.max(soonest(carried.calls, RIOT.calls), soonest(carried.notes, RIOT.notes)) - first,
    missing: reports.length - inAt.size,
    misplaced,
    calls429: callsCad.count429,
    notes429: notesCad.count429,
    callsMaxInWindow: callsCad.maxInAnyWindow(),
    notesMaxInWindow: notesCad.maxInAnyWindow(),
  };
}

/**
 * The earliest the last of these requests (made at `made`) can reach a CAD that admits `limit`
 * per rolling window: the (k + j x limit)-th arrives at least j windows after the k-th is made.
 */
function soonest(made: number[], limit: number): number {
  const sorted = [...made].sort((a, b) => a - b);
  let bound = Number.NEGATIVE_INFINITY;
  for (const [k, at] of sorted.entries())
    bound = Math.max(bound, at + Math.floor((sorted.length - 1 - k) / limit) * RIOT.windowMs);
  return bound;
}
