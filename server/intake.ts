/**
 * THE pipeline every call request goes through, whichever door it came in by: is the line
 * up, may this player use the command, the words, the cooldown, the place, the one call
 * builder, the queue, the hold for the client's street names, and the answer. Callers get
 * a typed answer, never an exception.
 */
import {
  type BuildResult,
  buildCall,
  type LocationFormats,
  type Report,
} from '../shared/call/build';
import type { DispatchCall } from '../shared/call/contract';
import { mapIdentity, stableKey } from '../shared/call/identity';
import { renderTemplate } from '../shared/call/template';
import { capLength, cleanText, cleanWords, tooLong } from '../shared/call/text';
import { formatWait, type MessageKey, type Messages } from '../shared/config/locale';
import type { AlertConfig, CommandConfig, Config } from '../shared/config/schema';
import type { Pause } from '../shared/delivery/scheduler';
import type { Cooldowns } from '../shared/guards/cooldown';
import type { Incidents } from '../shared/merge/incidents';
import { planJoin } from '../shared/merge/join';
import type { ClientLocation } from '../shared/protocol';
import type { CallMeta, Dispatch, ResultCallback } from './dispatch';
import { type Characters, characterName } from './framework/characters';
import type { Character } from './framework/types';
import type { Locator } from './locate';
import type { Logger } from './log';
import type { Notes } from './notes';
import type { Notifier, Tone } from './notify';
import { type Place, placeOf } from './place';
import type { Postals } from './postals';
import type { CallAnswer, CallRequest, PlayerReport, ScriptCall } from './request';
import type { Responders } from './responders';
import type { World } from './world';

/** Below this the player is just told the call is on its way. */
const WAIT_WORTH_TELLING_MS = 5_000;
/** How long a call waits for an async phone resource (npwd) to give the caller's number. */
export const PHONE_WAIT_MS = 1_000;
/**
 * How long a note for a call in flight waits for the call's number: until it comes (the call
 * may wait out an outage of any length); the CAD's answer, or its refusal, releases it.
 */
const NOTE_HOLD_MS = 7 * 24 * 3_600_000;

export interface IntakeDeps {
  world: World;
  config: Config;
  messages: Messages;
  /** Address and block templates with their fallbacks. */
  formats: LocationFormats;
  /** Why no call can be taken now (Line.down), or null when the line is open. */
  down(pause: Pause | null): string | null;
  dispatch: {
    enqueue: Dispatch['enqueue'];
    scheduler: Pick<Dispatch['scheduler'], 'status' | 'amend' | 'peek' | 'update'>;
    alsoTell: Dispatch['alsoTell'];
  };
  locator: Locator;
  postals: Pick<Postals, 'nearest'>;
  notifier: Notifier;
  cooldowns: Cooldowns;
  characters: Pick<Characters, 'caller' | 'itemCount' | 'phoneLookup'>;
  /** Recent calls: reports join them when config.merge is set. */
  incidents: Incidents | null;
  /** The notes lane, for reports joining a call the CAD already created. */
  notes: Pick<Notes, 'enqueue'> & { scheduler: Pick<Notes['scheduler'], 'peek' | 'update'> };
  /** One join per caller per merge.followUpSeconds. */
  followUps: Cooldowns;
  responders: Pick<Responders, 'alert' | 'count'>;
  log: Logger;
  now(): number;
  newId(): string;
}

/** A request the pipeline has checked and placed: what the builder and the queue need. */
interface Accepted {
  /** Everything of the call but its place. */
  draft: Omit<Report, 'position' | 'heading' | 'names' | 'postal'>;
  meta: CallMeta;
  /** The server's view or the script's coords, kept for the amend. */
  at: Place['position'];
  place: Place;
  callback?: ResultCallback;
  /** Who hears of it in game, and the words they read; the caller is not alerted. */
  alert: AlertConfig | null;
  words: string;
}

/** How a joined report went, for the log. */
const JOINED_AS = {
  fold: 'a folded report',
  note: 'a note',
  share: 'part of a waiting note',
} as const;

/** Who joins an incident: a player's report (told in chat, follow-up limit) or a script. */
interface Joiner {
  player: number | null;
  /** The command a player typed; null for a script's call. */
  command: string | null;
  incidentKey: string | null;
}

/** Why a request was refused: the answer's error, and the chat line its player reads. */
interface Refusal {
  error: string;
  message: MessageKey;
  values?: Record<string, string | number>;
  /** 'info' for a usage hint, which is not an error. */
  tone?: Tone;
}

export function createIntake(deps: IntakeDeps) {
  const { world, config, notifier, log } = deps;
  const postalAt = (x: number, y: number) => deps.postals.nearest(x, y);
  const lineDown = (): Refusal | null => {
    const down = deps.down(deps.dispatch.scheduler.status().pause);
    if (down === null) return null;
    return { error: `the emergency line is unavailable: ${down}`, message: 'unavailable' };
  };

  /** The call for a request's place; a script's call never carried the player's heading. */
  const build = (request: CallRequest, accepted: Accepted, place: Place): BuildResult =>
    buildCall(
      {
        ...accepted.draft,
        position: place.position,
        heading: request.kind === 'report' ? place.heading : null,
        names: place.names,
        postal: place.postal,
      },
      deps.formats,
    );

  /** Queues the call; the refusal says why not, with the wait when the queue is full. */
  const enqueue = (id: string, call: DispatchCall, a: Accepted, holdMs: number) => {
    let queued: ReturnType<Dispatch['enqueue']>;
    try {
      queued = deps.dispatch.enqueue(id, call, a.meta, holdMs, a.callback);
    } catch (err) {
      // The outbox could not write the call: it was not accepted, so say so rather than lose it.
      log.error(`could not store call ${id} (${(err as Error).message}); refused`);
      return refusal('the call could not be stored; try again', 'unavailable');
    }
    if (queued.ok) return queued;
    // The real wait, not "a minute": a backlog can take hours to drain.
    const minutes = Math.max(1, Math.ceil(queued.waitMs / 60_000));
    log.warn(
      `queue full: refused a call from ${a.meta.source} (room again in about ${minutes} min)`,
    );
    return refusal(`the queue is full; try again in about ${minutes} min`, 'queueFull', {
      wait: formatWait(queued.waitMs, deps.messages),
    });
  };

  /**
   * Holds the call while the client is asked for its place, then releases it amended with
   * what the client said (the call as it is, when the client says nothing in time).
   */
  const holdForPlace = (request: CallRequest, player: number, a: Accepted, first: DispatchCall) =>
    deps.locator.request(player, (answer: ClientLocation | null) => {
      let amended: BuildResult = { ok: true, call: first };
      if (answer) {
        // The postal found first stays: a script's own, or the one at the same place. Without
        // one, the client's place gets its own.
        const place = placeOf(a.at, answer, postalAt, a.place.postal ?? undefined);
        if (place.farNames && request.kind === 'report') warnFar(player);
        amended = build(request, a, place);
      }
      const call = keepFolded(a.draft.requestId, amended.ok ? amended.call : first);
      deps.dispatch.scheduler.amend(a.draft.requestId, call);
      // Responders read the call with the names the client gave, as the CAD will.
      alertResponders(a, call, false);
    });

  /** A call rebuilt after a hold keeps the reports folded into it meanwhile. */
  const keepFolded = (id: string, call: DispatchCall): DispatchCall => {
    const current = deps.dispatch.scheduler.peek(id);
    return current && current.notes.length > call.notes.length
      ? { ...call, notes: current.notes }
      : call;
  };

  /**
   * Responders hear of a placed call now, of a held one once its place is known. The call is
   * queued by then: a failure here is logged, never the caller's problem.
   */
  const alertResponders = (a: Accepted, call: DispatchCall, held: boolean): number => {
    const player = a.meta.player;
    try {
      if (held) return deps.responders.count(a.alert, player);
      return deps.responders.alert(a.draft.requestId, call, a.words, a.alert, player);
    } catch (err) {
      log.warn(`responders of call ${a.draft.requestId} not alerted: ${(err as Error).message}`);
      return 0;
    }
  };

  /** The caller's confirmation ends with how many responders in game were told. */
  const tellAlerted = (player: number, count: number) => {
    if (count === 1) notifier.tell(player, 'alertedOne', {}, 'ok');
    else if (count > 1) notifier.tell(player, 'alertedMany', { count }, 'ok');
  };

  /**
   * Who-may-call gates for a typed command. The flags are the framework's hints (often set
   * from a client): a refusal is always told, and a downed caller on a "distress" command
   * gets a call sent for them instead.
   */
  const gate = (r: PlayerReport, character: Character | null): Refusal | 'distress' | 'pass' => {
    const { player, command } = r;
    if (!r.typed) return 'pass';
    const down = character !== null && (character.dead || character.lastStand);
    if (down && command.downed === 'refuse') return refusal(`player ${player} is down`, 'downed');
    // A distress call is not a phone call: neither cuffs nor a missing phone stop it.
    if (down && command.downed === 'distress') return 'distress';
    if (character?.cuffed && command.cuffed === 'refuse')
      return refusal(`player ${player} is handcuffed`, 'cuffed');
    if (command.phoneItem !== null) {
      const carried = deps.characters.itemCount(player, command.phoneItem);
      // null: no inventory could say; the call goes through rather than be lost to it.
      if (carried === 0)
        return refusal(
          `player ${player} carries no ${command.phoneItem.join(' or ')}`,
          'noPhoneItem',
          {
            command: command.name,
          },
        );
    }
    return 'pass';
  };

  /** What the dispatcher reads: the words, then who called and the number, as configured. */
  const describeCall = (words: string, name: string | null, phone: string | null): string =>
    renderTemplate(config.report.descriptionFormat, {
      words,
      name: name ?? undefined,
      phone: phone ?? undefined,
    });

  const warnFar = (player: number) =>
    log.warn(
      `player ${player} reported street names from far away from where the server sees them; names ignored`,
    );

  /**
   * A report of a call already made joins it: folded into the call while it waits (no extra
   * request at all), or a note on it once the CAD created it. null: it opens its own call
   * (no match, the call is in flight right now, or its number was lost).
   */
  const joinIncident = (
    who: Joiner,
    a: Accepted,
    call: DispatchCall,
    kind: string,
    now: number,
  ): { answer: CallAnswer } | { refused: Refusal } | null => {
    const incidents = deps.incidents;
    const { player } = who;
    const key = a.meta.playerKey;
    if (!incidents || config.merge === null) return null;
    const match = incidents.find({
      kind,
      key: who.incidentKey,
      at: a.place.position,
      caller: key,
      now,
    });
    if (!match) return null;
    const { incident } = match;
    const wait = who.command !== null && key !== null ? deps.followUps.remaining(key, now) : 0;
    if (wait > 0)
      return {
        refused: refusal('follow-ups come too fast', 'cooldown', {
          seconds: Math.ceil(wait / 1000),
          command: who.command ?? '',
        }),
      };
    const name = call.metaData?.callerName ?? a.meta.callerName;
    const time = new Date(deps.now()).toISOString();
    const id = deps.newId();
    let message: { key: MessageKey; values: Record<string, string | number> };
    const join = planJoin(
      incident,
      () => deps.dispatch.scheduler.peek(incident.requestId),
      { call, name, words: a.words, time, player },
      (noteId) => deps.notes.scheduler.peek(noteId),
    );
    // As many reports as a call holds, or its number was lost: a call of its own.
    if (!join) return null;
    // The call's number, when the report's note can already name it.
    const callId = join.as === 'fold' ? null : join.note.callId;
    try {
      if (join.as === 'fold') {
        deps.dispatch.scheduler.update(incident.requestId, join.call);
      } else if (join.as === 'share') {
        deps.notes.scheduler.update(join.noteId, join.note);
      } else {
        // A note for a call in flight waits for its number (released when it comes).
        const holdMs = callId === null ? NOTE_HOLD_MS : 0;
        const meta = { ...a.meta, incident: incident.requestId };
        // The notes queue is full: the report opens a call of its own rather than be lost.
        if (!deps.notes.enqueue(id, join.note, meta, holdMs).ok) return null;
        incident.noteId = id;
        if (callId === null) incident.held.push(id);
      }
    } catch (err) {
      log.error(
        `could not store the report joining ${incident.requestId} (${(err as Error).message}); refused`,
      );
      return { refused: refusal('the report could not be stored; try again', 'unavailable') };
    }
    incidents.joined(incident, key, player, callId === null);
    if (callId === null) {
      // A script's callback hears the call's own final answer, under the id it was given.
      const { callback } = a;
      if (callback)
        deps.dispatch.alsoTell(incident.requestId, (result) => callback({ ...result, id }));
      message = { key: 'mergedPending', values: {} };
    } else {
      // The call exists: the note is durable with us and will be added to it.
      a.callback?.({ ok: true, id, callId });
      message = { key: 'merged', values: { callId } };
    }
    if (who.command !== null && key !== null && config.merge.followUpSeconds > 0)
      deps.followUps.start(key, now, config.merge.followUpSeconds * 1000);
    log.info(
      `${a.meta.source} from ${a.meta.callerName} joined call ${incident.requestId.slice(0, 8)}${incident.callId !== null ? ` (CAD #${incident.callId})` : ''} as ${JOINED_AS[join.as]}${callId === null && join.as !== 'fold' ? ' held for its number' : ''} (${match.why})`,
    );
    if (who.command !== null && player !== null)
      notifier.tell(player, message.key, message.values, 'ok');
    return { answer: { ok: true, id, position: 0, merged: true, callId: incident.callId } };
  };

  /** A player's report: permission, words and cooldown first; every refusal told in chat. */
  const report = (r: PlayerReport): CallAnswer => {
    const { player, command } = r;
    const refuse = (why: Refusal): CallAnswer => {
      notifier.tell(player, why.message, why.values ?? {}, why.tone ?? 'error');
      return { ok: false, error: why.error };
    };
    const down = lineDown();
    if (down) return refuse(down);
    if (command.ace !== null && !world.aceAllowed(player, command.ace))
      return refuse(
        refusal(`player ${player} lacks the ACE ${command.ace}`, 'noPermission', {
          command: command.name,
        }),
      );
    const character = deps.characters.caller(player);
    const gated = gate(r, character);
    if (gated !== 'pass' && gated !== 'distress') return refuse(gated);
    const distress = gated === 'distress';
    const words = cleanWords(r.words);
    // A downed caller may type nothing: the call still goes out, saying why it is silent.
    const said =
      capLength(words, config.report.maxLength) || (distress ? deps.messages.distressWords : '');
    if (said === '')
      return refuse({
        error: 'the description is empty',
        message: 'usage',
        values: { command: command.name },
        tone: 'info',
      });
    const identifiers = world.identifiers(player);
    const playerKey = stableKey(identifiers, String(player));
    const cooldownKey = `${playerKey}|${command.name}`;
    const now = deps.now();
    const at = world.position(player);
    if (!at) log.warn(`no server-side position for player ${player}: using the client's report`);
    const place = placeOf(at, r.claimed, postalAt);
    if (place.farNames) warnFar(player);
    const identity = mapIdentity(identifiers, config.identity);
    const realName = cleanText(world.playerName(player), 64, false) || `player ${player}`;
    const inCharacter = character && !command.anonymous ? characterOf(character) : null;
    const requestId = deps.newId();
    const accepted: Accepted = {
      draft: {
        template: distress ? distressTemplate(command) : command,
        // The dispatcher reads who called and the number to call back, as on a 911 screen;
        // a caller the framework does not know (or an anonymous one) adds neither.
        description: describeCall(said, inCharacter?.name ?? null, inCharacter?.phone ?? null),
        caller: {
          name: command.anonymous ? deps.messages.anonymousCaller : (inCharacter?.name ?? realName),
          playerId: player,
          communityUserId: identity?.communityUserId ?? null,
          phone: inCharacter?.phone ?? null,
        },
        requestId,
      },
      meta: {
        player,
        playerKey,
        callerName: logName(realName, character),
        source: distress ? `/${command.name} (distress)` : `/${command.name}`,
      },
      at,
      place,
      callback: r.callback,
      alert: command.alert ?? null,
      words: said,
    };
    const built = build(r, accepted, place);
    if (!built.ok) {
      // Config validation prevents this for command settings; what is left is a caller with
      // no identifier to attach and a command with no fixed target.
      log.warn(`call from ${realName} for /${command.name} not sent: ${built.error}`);
      return refuse(refusal(built.error, 'noTarget'));
    }
    // A report of a call already made joins it, and costs no new call: the command's
    // cooldown does not hold it back (the follow-up limit does).
    const kind = distress ? `${command.name} (distress)` : command.name;
    const joined = joinIncident(
      { player, command: command.name, incidentKey: null },
      accepted,
      built.call,
      kind,
      now,
    );
    if (joined) return 'refused' in joined ? refuse(joined.refused) : joined.answer;
    const left = r.typed ? deps.cooldowns.remaining(cooldownKey, now) : 0;
    if (left > 0) {
      const seconds = Math.ceil(left / 1000);
      return refuse(
        refusal('the command is cooling down', 'cooldown', { seconds, command: command.name }),
      );
    }
    // A call raised for a player (report911) asks the client for names, and for the place
    // itself when the server has no view of the ped; it waits for them briefly.
    const locate = r.claimed === null;
    // An async phone resource still looking the number up: the call waits for it briefly.
    const phoneLookup =
      !locate && inCharacter && inCharacter.phone === null
        ? deps.characters.phoneLookup(player)
        : null;
    const holdMs = locate ? deps.locator.timeoutMs : phoneLookup ? PHONE_WAIT_MS : 0;
    const queued = enqueue(requestId, built.call, accepted, holdMs);
    if ('error' in queued) return refuse(queued);
    if (locate) holdForPlace(r, player, accepted, built.call);
    const phoneDeadline = now + PHONE_WAIT_MS;
    if (phoneLookup && inCharacter)
      void phoneLookup
        .then((phone) => {
          // Too late: the call went out as it was (or waits on a retry, which this must not cut short).
          if (deps.now() > phoneDeadline) return;
          let call = built.call;
          if (phone !== null) {
            const draft = {
              ...accepted.draft,
              description: describeCall(said, inCharacter.name, phone),
              caller: { ...accepted.draft.caller!, phone },
            };
            const again = build(r, { ...accepted, draft }, place);
            if (again.ok) call = again.call;
          }
          // Released either way: with the number, or as it was.
          deps.dispatch.scheduler.amend(requestId, keepFolded(requestId, call));
        })
        .catch((err: unknown) => {
          // The call is queued and goes out when its hold ends; only the number is missing.
          log.warn(
            `call ${requestId}: the caller's number could not be added: ${(err as Error).message}`,
          );
        });
    const alerted = alertResponders(accepted, built.call, locate);
    // The cooldown starts only for an accepted call: a refused one can be tried again.
    if (r.typed) deps.cooldowns.start(cooldownKey, now, command.cooldownSeconds * 1000);
    const anonymous = command.anonymous ? ' anonymously' : '';
    log.info(
      `call ${requestId}: ${accepted.meta.source} from ${accepted.meta.callerName} (${identity?.identifier ?? 'no identifier'})${anonymous} queued`,
    );
    // Said before the rest, so the player reads why the call holds less than they typed.
    if (tooLong(words, config.report.maxLength))
      notifier.tell(player, 'cut', { max: config.report.maxLength });
    deps.incidents?.opened({
      requestId,
      kind,
      key: null,
      at: distress ? null : place.position,
      caller: playerKey,
      player,
      now,
    });
    if (queued.waitMs >= WAIT_WORTH_TELLING_MS) {
      notifier.tell(player, 'receivedWait', {
        place: queued.position + 1,
        wait: formatWait(queued.waitMs, deps.messages),
      });
    } else {
      notifier.tell(player, 'received');
    }
    tellAlerted(player, alerted);
    return { ok: true, id: requestId, position: queued.position + 1 };
  };

  /** A script's call: its input was validated at its door; refusals go back to it, not to chat. */
  const script = (r: ScriptCall): CallAnswer => {
    const { player, resource } = r;
    const at = r.coords ?? (player !== null ? world.position(player) : null);
    const place = placeOf(at, null, postalAt, r.postal);
    const identity =
      player !== null ? mapIdentity(world.identifiers(player), config.identity) : null;
    const realName = player !== null ? cleanText(world.playerName(player), 64, false) : resource;
    const character = player !== null ? deps.characters.caller(player) : null;
    const inCharacter = character ? characterOf(character) : null;
    const name = inCharacter?.name ?? realName;
    const words = cleanText(r.words, config.report.maxLength, false);
    const requestId = deps.newId();
    const accepted: Accepted = {
      draft: {
        template: r.template,
        description: words,
        caller:
          player !== null
            ? {
                name,
                playerId: player,
                communityUserId: identity?.communityUserId ?? null,
                phone: inCharacter?.phone ?? null,
              }
            : null,
        requestId,
        resource,
        address: r.address,
        block: r.block,
        notes: r.notes,
        metaData: r.metaData,
      },
      meta: {
        player,
        playerKey: player !== null ? stableKey(world.identifiers(player), String(player)) : null,
        callerName: player !== null ? logName(realName, character) : resource,
        source: `export from ${resource}`,
      },
      at,
      place,
      callback: r.callback,
      alert: config.exportDefaults.alert,
      words,
    };
    const built = build(r, accepted, place);
    if (!built.ok) {
      const error = `${built.error} (pass playerId, communityUserIds or accounts, or set exportDefaults.communityUserIds)`;
      return { ok: false, error };
    }
    // A script hears about its own input before the state of the line, so it can fix it.
    const down = lineDown();
    if (down) return { ok: false, error: down.error };
    // A script's call joins the call of its incident key, or one of the same code close by;
    // merge: false keeps it apart.
    const now = deps.now();
    const kind = `export:${r.template.code}`;
    // Keys are a script's own: two resources using "1" for their heists are two incidents.
    const incidentKey = r.incidentKey !== undefined ? `${resource}:${r.incidentKey}` : null;
    if (r.merge !== false) {
      const joined = joinIncident(
        { player, command: null, incidentKey },
        accepted,
        built.call,
        kind,
        now,
      );
      if (joined)
        return 'refused' in joined ? { ok: false, error: joined.refused.error } : joined.answer;
    }
    // With a player and no address of its own, the client is asked for the street names;
    // with a player and no position at all, for the place too.
    const locate = player !== null && (place.position === null || r.address === undefined);
    const queued = enqueue(requestId, built.call, accepted, locate ? deps.locator.timeoutMs : 0);
    if ('error' in queued) return { ok: false, error: queued.error };
    if (r.merge !== false)
      deps.incidents?.opened({
        requestId,
        kind,
        key: incidentKey,
        at: place.position,
        caller: accepted.meta.playerKey,
        player,
        now,
      });
    if (locate && player !== null) holdForPlace(r, player, accepted, built.call);
    alertResponders(accepted, built.call, locate);
    log.info(`call ${requestId}: "${built.call.title}" raised by resource ${resource} queued`);
    return { ok: true, id: requestId, position: queued.position + 1 };
  };

  return {
    /** Takes one call request through the pipeline and answers at once. */
    take(request: CallRequest): CallAnswer {
      return request.kind === 'report' ? report(request) : script(request);
    },
  };
}

export type Intake = ReturnType<typeof createIntake>;

/** The character's name and number when the framework knows them. */
const characterOf = (c: Character) => ({ name: characterName(c), phone: c.phone });

/** Logs name the character and the FiveM account, so staff can tell who played whom. */
const logName = (realName: string, c: Character | null): string => {
  const name = characterName(c);
  return name && name !== realName ? `${name} (${realName})` : realName;
};

/** A downed caller's call: the command's distress title, and the most urgent priority. */
const distressTemplate = (command: CommandConfig) => ({
  ...command,
  title: command.distressTitle,
  priority: 1,
});

const refusal = (
  error: string,
  message: MessageKey,
  values?: Record<string, string | number>,
): Refusal => ({ error, message, values });
