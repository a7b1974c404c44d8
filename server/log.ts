/**
 * Console output with the resource's name in front, and the one place that knows every
 * secret the resource holds. Every console line passes through `redact`, so even a bug that
 * formats the API key into a message cannot print it; the transport redacts what the CAD
 * answers the same way before anything is stored or shown (see transport.ts).
 */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Shorter secrets are not redacted: replacing every "abc" in a line would garble it. */
const MIN_SECRET = 4;
/**
 * A secret this long is also redacted where only its first or last PARTIAL characters
 * appear: an answer that echoes a header often cuts it short ("Bearer 3f9c1e…").
 */
const PARTIAL = 12;
export const REDACTED = '[redacted]';

/**
 * Every secret by name: the API key today; a webhook or Redis URL later is one more `set`.
 * Each secret is also redacted in the forms an answer may quote it in: JSON-escaped (a
 * problem+json detail) and percent-encoded (a URL).
 */
export class Secrets {
  private readonly byName = new Map<string, readonly string[]>();

  /** Sets (or replaces) the values known under `name`; empty values are ignored. */
  set(name: string, ...values: readonly string[]): void {
    this.byName.set(
      name,
      values.filter((v) => v !== ''),
    );
  }

  /** Every form of every secret, longest first so no shorter one cuts a longer one apart. */
  private forms(): string[] {
    const out = new Set<string>();
    for (const values of this.byName.values()) {
      for (const v of values) {
        out.add(v);
        out.add(JSON.stringify(v).slice(1, -1));
        out.add(encodeURIComponent(v));
        // The trimmed form too: the key as sent is the value without surrounding blanks.
        out.add(v.trim());
      }
    }
    return [...out].filter((v) => v.length >= MIN_SECRET).sort((a, b) => b.length - a.length);
  }

  redact(text: string): string {
    let out = text;
    const forms = this.forms();
    for (const secret of forms) out = out.split(secret).join(REDACTED);
    for (const secret of forms) {
      if (secret.length < PARTIAL + 4) continue;
      out = redactPartial(out, secret);
    }
    return out;
  }
}

/** Removes runs of at least PARTIAL characters that start or end the secret. */
function redactPartial(text: string, secret: string): string {
  let out = text;
  const head = secret.slice(0, PARTIAL);
  for (let i = out.indexOf(head); i >= 0; i = out.indexOf(head, i + REDACTED.length)) {
    let n = PARTIAL;
    while (n < secret.length && out[i + n] === secret[n]) n++;
    out = out.slice(0, i) + REDACTED + out.slice(i + n);
  }
  const tail = secret.slice(-PARTIAL);
  for (let i = out.indexOf(tail); i >= 0; i = out.indexOf(tail, i + REDACTED.length)) {
    let start = i;
    let k = secret.length - PARTIAL;
    while (k > 0 && start > 0 && out[start - 1] === secret[k - 1]) {
      start--;
      k--;
    }
    out = out.slice(0, start) + REDACTED + out.slice(i + PARTIAL);
    i = start;
  }
  return out;
}

export function createLogger(prefix: string, secrets: Pick<Secrets, 'redact'>): Logger {
  const line = (message: string): string => `[${prefix}] ${secrets.redact(message)}`;
  return {
    info: (m) => console.log(line(m)),
    warn: (m) => console.warn(line(m)),
    error: (m) => console.error(line(m)),
  };
}
