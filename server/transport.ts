/**
 * HTTP to the CAD. Never throws: every way a request can end becomes an HttpAttempt for the
 * classifier. The key goes into the Authorization header and nowhere else, and whatever
 * comes back (body, headers, error messages) is redacted here, before the classifier turns
 * it into reasons and Problems that are logged, stored in KVP and shown in chat.
 */
import type { DispatchCall } from '../shared/call/contract';
import { type NoteRequest, noteBody } from '../shared/call/note';
import type { HttpAttempt } from '../shared/delivery/outcome';

export interface TransportOptions {
  baseUrl: string;
  /** Read at every request, so an operator can fix the key without a restart. */
  apiKey: () => string;
  /** Read at every request, so `sonoran911 retry all` can move the calls to a fixed id. */
  serverId: () => number;
  /** Milliseconds before the request is aborted and counted as a timeout. */
  timeoutMs: number;
  /**
   * Removes every secret from text the CAD (or a proxy, or fetch itself) produced.
   * @default the current API key is redacted
   */
  redact?: (text: string) => string;
  /** A line for the console about an answer the classifier alone cannot explain. */
  notice?: (message: string) => void;
  fetch?: typeof fetch;
}

/** Creates calls: `POST .../dispatch-calls` with the call as its body. */
export function createTransport(
  options: TransportOptions,
): (call: DispatchCall) => Promise<HttpAttempt> {
  const post = poster(options);
  return (call) =>
    post(
      '/dispatch-calls',
      call,
      (status, why) =>
        `call ${call.metaData?.requestId ?? '(no requestId)'}: the CAD answered HTTP ${status} (created) but the rest of its answer was lost (${why}); the call counts as created and is not sent again, its CAD call number is unknown`,
    );
}

/** Adds notes: `POST .../dispatch-calls/{callId}/notes` with only the note's own fields. */
export function createNoteTransport(
  options: TransportOptions,
): (note: NoteRequest) => Promise<HttpAttempt> {
  const post = poster(options);
  return (note) =>
    post(
      `/dispatch-calls/${encodeURIComponent(String(note.callId))}/notes`,
      noteBody(note),
      () =>
        `a note on CAD call #${note.callId}: the CAD answered (added) but the rest of its answer was lost; the note counts as added and is not sent again`,
    );
}

/** One POST under the server's path; `lost` says what a 2xx whose body was lost means. */
function poster(options: TransportOptions) {
  const base = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  const redact =
    options.redact ??
    ((text: string) => {
      const key = options.apiKey();
      return key.length >= 4 ? text.split(key).join('[redacted]') : text;
    });
  return async (
    path: string,
    payload: unknown,
    lost: (status: number, why: string) => string,
  ): Promise<HttpAttempt> => {
    const url = `${base}/v2/emergency/servers/${options.serverId()}${path}`;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), options.timeoutMs);
    let response: Response;
    try {
      response = await doFetch(url, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${options.apiKey()}`,
          'Content-Type': 'application/json',
          Accept: 'application/json, application/problem+json',
        },
        body: JSON.stringify(payload),
        signal: controller.signal,
        // A redirect is classified, never followed (see classify in shared/delivery/outcome.ts).
        redirect: 'manual',
      });
    } catch (err) {
      clearTimeout(timer);
      if (controller.signal.aborted) return { kind: 'timeout' };
      // fetch quotes a header it cannot send, the Authorization header included.
      return { kind: 'network', message: redact(errorText(err)) };
    }
    const headers: Record<string, string> = {};
    response.headers.forEach((value, key) => {
      headers[key] = redact(value);
    });
    if (headers.location !== undefined) headers.location = absolute(headers.location, url);
    const { status } = response;
    try {
      const body = redactBody(await response.text(), redact);
      return { kind: 'response', status, headers, body };
    } catch (err) {
      // The status line arrived: it is the CAD's verdict, whatever happens to the body.
      const bodyLost = controller.signal.aborted ? 'timed out' : redact(errorText(err));
      if (status >= 200 && status < 300) options.notice?.(lost(status, bodyLost));
      return { kind: 'response', status, headers, body: '', bodyLost };
    } finally {
      clearTimeout(timer);
    }
  };
}

/**
 * The body with every secret gone, as written and as its JSON decodes: a CAD that escapes
 * characters (`\u002B` for `+`, `\/` for `/`) would otherwise hand the key to whoever
 * reads the decoded `detail`. A JSON body is decoded, cleaned string by string, re-encoded.
 */
function redactBody(text: string, redact: (s: string) => string): string {
  let parsed: unknown;
  try {
    // Decoded first: redacting the raw text could cut an escape in half and break the JSON.
    parsed = JSON.parse(text);
  } catch {
    return redact(text);
  }
  const clean = (v: unknown): unknown => {
    if (typeof v === 'string') return redact(v);
    if (Array.isArray(v)) return v.map(clean);
    if (v && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [redact(k), clean(x)]));
    return v;
  };
  return JSON.stringify(clean(parsed));
}

function errorText(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown } } | null)?.cause?.code;
  if (typeof cause === 'string') return cause;
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === 'string' && message !== '' ? message : String(err);
}

/** A relative Location resolved against the request, so the console can say where it points. */
function absolute(location: string, requestUrl: string): string {
  try {
    return new URL(location, requestUrl).href;
  } catch {
    return location;
  }
}
