/** What the local HTTP stand-ins (the CAD, Discord) share: reading a request body. */
import type { IncomingMessage } from 'node:http';

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
