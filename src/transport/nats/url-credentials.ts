// Credentials written into server URLs (`nats://user:pass@host:port`, route URLs, `-ns`) are
// secrets: whatever shows a URL (logs, /varz, error messages) shows it through this.

const hidden = '[redacted]';

/** The URL (or comma-separated URLs) with whatever stands before `@` in each authority replaced. */
export function redactUrlCredentials(url: string): string {
  return url.replace(/(\/\/)([^@/,]*)@/g, `$1${hidden}@`);
}
