/**
 * Client entry point. The client never sees the server's configuration: it asks for the
 * command list, registers those commands with chat help, and on use sends the words and
 * the place to the server, which decides everything else.
 */
import {
  type CommandsPayload,
  Events,
  type LocatedPayload,
  type LocatePayload,
  type ReportPayload,
} from '../shared/events';
import { readLocation } from './location';

function main(): void {
  const registered = new Set<string>();

  onNet(Events.commands, (payload: CommandsPayload) => {
    if (!payload || !Array.isArray(payload.commands)) return;
    for (const { name, help, suggest } of payload.commands) {
      if (suggest) emit('chat:addSuggestion', `/${name}`, help, [payload.param]);
      // RegisterCommand twice would run the handler twice; the list can arrive again.
      if (registered.has(name)) continue;
      registered.add(name);
      RegisterCommand(
        name,
        (_source: number, args: string[]) => {
          const report: ReportPayload = {
            command: name,
            description: args.join(' '),
            location: readLocation(),
          };
          emitNet(Events.report, report);
        },
        false,
      );
    }
  });

  // A call raised for this player by another resource (a phone app, say): the server asks
  // for the names of the place, with a nonce it checks on the way back.
  onNet(Events.locate, (payload: LocatePayload) => {
    if (!payload || typeof payload.nonce !== 'string') return;
    const answer: LocatedPayload = { nonce: payload.nonce, location: readLocation() };
    emitNet(Events.located, answer);
  });

  emitNet(Events.hello);
}

main();
