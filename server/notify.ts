/** Chat lines to one player, always from the message table. */
import { format, type MessageKey, type Messages } from '../shared/config/locale';

export type Tone = 'info' | 'ok' | 'error';
const COLORS: Record<Tone, [number, number, number]> = {
  info: [90, 160, 255],
  ok: [80, 200, 120],
  error: [255, 90, 90],
};

export interface Notifier {
  tell(player: number, key: MessageKey, vars?: Record<string, string | number>, tone?: Tone): void;
  readonly messages: Messages;
}

export function createNotifier(
  messages: Messages,
  send: (player: number, message: { color: number[]; args: string[] }) => void,
  /** The last guard before a player's chat: removes every secret (see Secrets in log.ts). */
  redact: (text: string) => string = (text) => text,
): Notifier {
  return {
    messages,
    tell(player, key, vars, tone = 'info') {
      send(player, {
        color: COLORS[tone],
        args: [messages.chatAuthor, redact(format(messages[key], vars))],
      });
    },
  };
}
