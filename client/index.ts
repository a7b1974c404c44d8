/**
 * Client entry point. The client never sees the server's configuration: it asks for the
 * command list, registers those commands with chat help, and on use sends the words and
 * the place to the server, which decides everything else.
 */

import { wordsAfterCommand } from '../shared/input/command-line';
import {
  type AlertPayload,
  type CommandsPayload,
  type ConflictPayload,
  Events,
  type LocatedPayload,
  type LocatePayload,
  MAX_REPORT_CHARS,
  type ReportPayload,
} from '../shared/protocol';
import { createAlertBlips } from './alerts';
import { readLocation } from './location';

function main(): void {
  const registered = new Set<string>();

  onNet(Events.commands, (payload: CommandsPayload) => {
    if (!payload || !Array.isArray(payload.commands)) return;
    // The list holds only what this player may use: a client command registered here is
    // open to everyone on this client, and the stock chat suggests every such command.
    for (const { name, help } of payload.commands) {
      emit('chat:addSuggestion', `/${name}`, help, [payload.param]);
      // RegisterCommand twice would run the handler twice; the list can arrive again.
      if (registered.has(name)) continue;
      // Another resource owning the name keeps the slot: the server console should say so.
      const owner = ownerOf(name);
      if (owner !== null && owner !== GetCurrentResourceName()) {
        const conflict: ConflictPayload = { command: name, resource: owner };
        emitNet(Events.conflict, conflict);
      }
      RegisterCommand(
        name,
        (_source: number, args: string[], raw: string) => {
          const report: ReportPayload = {
            command: name,
            // Sent whole up to the cap: the server cuts to its own length and says so.
            description: wordsAfterCommand(name, raw, args).slice(0, MAX_REPORT_CHARS),
            location: readLocation(),
          };
          emitNet(Events.report, report);
        },
        false,
      );
      registered.add(name);
    }
  });

  // A call raised for this player by another resource (a phone app, say): the server asks
  // for the names of the place, with a nonce it checks on the way back.
  onNet(Events.locate, (payload: LocatePayload) => {
    if (!payload || typeof payload.nonce !== 'string') return;
    const answer: LocatedPayload = { nonce: payload.nonce, location: readLocation() };
    emitNet(Events.located, answer);
  });

  // A responder alerted to a call: its blip, for as long as the server says.
  const blips = createAlertBlips();
  onNet(Events.alert, (payload: AlertPayload) => blips.show(payload));
  on('onResourceStop', (name: string) => {
    if (name === GetCurrentResourceName()) blips.clear();
  });

  emitNet(Events.hello);
}

main();

/** The resource that owns a command name on this client, or null when it is free. */
function ownerOf(name: string): string | null {
  let list: unknown;
  try {
    list = GetRegisteredCommands();
  } catch {
    // Only a warning depends on it: never let it keep a command from being registered.
    return null;
  }
  if (!Array.isArray(list)) return null;
  const lower = name.toLowerCase();
  for (const entry of list as { name?: unknown; resource?: unknown }[]) {
    if (typeof entry?.name === 'string' && entry.name.toLowerCase() === lower)
      return typeof entry.resource === 'string' ? entry.resource : null;
  }
  return null;
}
