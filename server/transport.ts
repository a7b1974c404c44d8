/**
 * HTTP to the CAD. Never throws: every way a request can end becomes an HttpAttempt for the
 * classifier. The key goes into the Authorization header and nowhere else.
 */
import type { DispatchCall } from '../shared/contract';
import type { HttpAttempt } from '../shared/outcome';

export interface TransportOptions {
  baseUrl: string;
  /** Read at every request, so an operator can fix the key without a restart. */
  apiKey: () => string;
  serverId: number;
  /** Milliseconds before the request is aborted and counted as a timeout. */
  timeoutMs: number;
  fetch?: typeof fetch;
}

export function createTransport(
  options: TransportOptions,
): (call: DispatchCall) => Promise<HttpAttempt> {
  const url = `${options.baseUrl.replace(/\/+$/, '')}/v2/emergency/servers/${options.serverId}/dispatch-calls`;
  const doFetch = options.fetch ?? fetch;
  return async (call) => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), options.timeoutMs);
    try {
      const response = await doFetch(url, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${options.apiKey()}`,
          'Content-Type': 'application/json',
          Accept: 'application/json, application/problem+json',
        },
        body: JSON.stringify(call),
        signal: controller.signal,
      });
      const body = await response.text();
      const headers: Record<string, string> = {};
      response.headers.forEach((value, key) => {
        headers[key] = value;
      });
      return { kind: 'response', status: response.status, headers, body };
    } catch (err) {
      if (controller.signal.aborted) return { kind: 'timeout' };
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      return { kind: 'network', message: cause ?? (err as Error).message ?? String(err) };
    } finally {
      clearTimeout(timer);
    }
  };
}
