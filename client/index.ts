/**
 * Client entry point. The client never sees the server's configuration: it asks for the
 * command list, registers those commands with chat help, and on use sends the words and
 * the place to the server, which decides everything else.
 */
import { type CommandsPayload, Events, type ReportPayload } from '../shared/events';
import { readLocation } from './location';

function main(): void {
  const registered = new Set<string>();

  onNet(Events.commands, (payload: CommandsPayload) => {
    if (!payload || !Array.isArray(payload.commands)) return;
    for (const { name, help } of payload.commands) {
      emit('chat:addSuggestion', `/${name}`, help, [payload.param]);
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

  emitNet(Events.hello);
}

main();
