/**
 * Console output with the resource's name in front. Every line passes through `redact`, so
 * even a bug that formats the API key into a message cannot print it.
 */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export function createLogger(prefix: string, secrets: () => readonly string[]): Logger {
  const redact = (message: string): string => {
    let out = message;
    for (const secret of secrets()) {
      if (secret.length >= 4) out = out.split(secret).join('[redacted]');
    }
    return `[${prefix}] ${out}`;
  };
  return {
    info: (m) => console.log(redact(m)),
    warn: (m) => console.warn(redact(m)),
    error: (m) => console.error(redact(m)),
  };
}
