/** What the local HTTP stand-ins (the CAD, Discord) share: reading a request, and answering it. */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Bodies past this are refused (413) by both stand-ins. */
export const MAX_BODY = 1024 * 1024;

/** The body as text; null when it is larger than MAX_BODY. */
export async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The body as JSON; undefined when it is empty or not JSON. */
export function parseJson(text: string | null): unknown {
  if (text === null || text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** What a stand-in does with a request: answer it, drop the connection, or never answer. */
export type Answer<Extra = unknown> =
  | ({ kind: 'respond'; status: number; headers: Record<string, string>; body: string } & Extra)
  | { kind: 'reset' }
  | { kind: 'hang' };

/** How a stand-in records one request's fate. */
export interface Fate {
  /** 0 when the connection was reset or left hanging. */
  status: number;
  outcome: 'answered' | 'reset' | 'hang';
}

/** Connections a stand-in holds open without answering; `destroyAll` on close. */
export class HungConnections {
  private readonly open = new Set<ServerResponse>();

  hold(res: ServerResponse): void {
    this.open.add(res);
    res.on('close', () => this.open.delete(res));
  }

  destroyAll(): void {
    for (const res of this.open) res.destroy();
    this.open.clear();
  }
}

/**
 * Carries out a reset or a hang and records it; for an answer, records its status and
 * returns it to be written (null when the client has gone meanwhile).
 */
export function settle<Extra>(
  answer: Answer<Extra>,
  req: IncomingMessage,
  res: ServerResponse,
  record: Fate,
  hung: HungConnections,
): Extract<Answer<Extra>, { kind: 'respond' }> | null {
  if (answer.kind === 'reset') {
    record.outcome = 'reset';
    req.socket.destroy();
    return null;
  }
  if (answer.kind === 'hang') {
    record.outcome = 'hang';
    hung.hold(res);
    return null;
  }
  record.status = answer.status;
  return res.destroyed ? null : (answer as Extract<Answer<Extra>, { kind: 'respond' }>);
}
