// Stand-in for the stock `chat` resource that every real server runs: it listens to these
// events on each client, and tests read what a player would have seen on screen.
import type { ChatLine, Suggestion } from './types';

export interface ChatSink {
  chat: ChatLine[];
  suggestions: Map<string, Suggestion>;
}

export const CHAT_EVENTS = new Set([
  'chat:addMessage',
  'chatMessage',
  'chat:addSuggestion',
  'chat:addSuggestions',
  'chat:removeSuggestion',
  'chat:clear',
]);

export function handleChatEvent(sink: ChatSink, name: string, args: unknown[]): void {
  switch (name) {
    case 'chat:addMessage': {
      const line = parseMessage(args[0]);
      if (line) sink.chat.push(line);
      return;
    }
    case 'chatMessage': {
      // Legacy signature: (author, color, text).
      const [author, color, text] = args;
      sink.chat.push({
        ...(typeof author === 'string' && author !== '' ? { author } : {}),
        text: String(text ?? ''),
        ...(Array.isArray(color) ? { color: color.map(Number) } : {}),
      });
      return;
    }
    case 'chat:addSuggestion':
      addSuggestion(sink, args[0], args[1], args[2]);
      return;
    case 'chat:addSuggestions':
      if (Array.isArray(args[0])) {
        for (const s of args[0] as { name?: unknown; help?: unknown; params?: unknown }[]) {
          addSuggestion(sink, s?.name, s?.help, s?.params);
        }
      }
      return;
    case 'chat:removeSuggestion':
      if (typeof args[0] === 'string') sink.suggestions.delete(args[0]);
      return;
    case 'chat:clear':
      sink.chat.length = 0;
  }
}

// cfx-server-data chat html/App.ts ON_SUGGESTION_ADD: a name already listed is updated only
// when the new one brings help or params (the chat's own refresh brings neither).
function addSuggestion(sink: ChatSink, name: unknown, help: unknown, params: unknown): void {
  if (typeof name !== 'string') return;
  if (sink.suggestions.has(name) && !help && !params) return;
  sink.suggestions.set(name, {
    help: typeof help === 'string' ? help : '',
    params: Array.isArray(params) ? params : [],
  });
}

/**
 * The stock chat's refreshCommands (cfx-server-data resources/[gameplay]/chat): the client
 * script, on every client resource start or stop, suggests each registered client command
 * the client's ACEs allow (`IsAceAllowed('command.' .. name)`, toggleChat excepted); the
 * server script, on every server resource start and when a player's chat loads, suggests
 * each server command that player may use. Both only ever add. The real ones wait 500 ms
 * first; here they run on the next turn.
 */
export function chatRefreshList(
  commands: readonly { name: string }[],
  allowed: (ace: string) => boolean,
): { name: string; help: string }[] {
  return commands
    .filter((c) => c.name !== 'toggleChat' && allowed(`command.${c.name}`))
    .map((c) => ({ name: `/${c.name}`, help: '' }));
}

function parseMessage(msg: unknown): ChatLine | null {
  if (typeof msg === 'string') return { text: msg };
  if (typeof msg !== 'object' || msg === null) return null;
  const m = msg as { args?: unknown; color?: unknown; template?: unknown };
  const args = Array.isArray(m.args) ? m.args.map((a) => String(a ?? '')) : [];
  const color = Array.isArray(m.color) ? { color: m.color.map(Number) } : {};
  if (typeof m.template === 'string') {
    const text = m.template.replace(/\{(\d+)\}/g, (_, i: string) => args[Number(i)] ?? '');
    return { text, ...color };
  }
  if (args.length >= 2) return { author: args[0] ?? '', text: args[1] ?? '', ...color };
  return { text: args[0] ?? '', ...color };
}
