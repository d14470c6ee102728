// Go's time.ParseDuration, because users pass `-hbi 90s`, `-ma 1h30m` or `-ma 1.5h` exactly as they
// did to the reference server. Results are milliseconds (fractions kept for µs and ns units).

const unitMs: Readonly<Record<string, number>> = Object.freeze({
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  'μs': 1e-3,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
});

/** Parses a Go duration (`300ms`, `-1.5h`, `2h45m`); returns undefined when it is not one. */
export function parseGoDurationMs(text: string): number | undefined {
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let totalMs = 0;
  const part = /^(\d*)(?:\.(\d*))?([a-zµμ]+)/;
  while (rest !== '') {
    const match = part.exec(rest);
    if (match === null) return undefined;
    const whole = match[1] ?? '';
    const fraction = match[2];
    const unit = match[3] ?? '';
    if (whole === '' && (fraction === undefined || fraction === '')) return undefined;
    const scale = unitMs[unit];
    if (scale === undefined) return undefined;
    const value = Number(`${whole === '' ? '0' : whole}.${fraction ?? '0'}`);
    totalMs += value * scale;
    rest = rest.slice(match[0].length);
  }
  // Go's Duration is an int64 of nanoseconds: about 292 years.
  if (totalMs > 9_223_372_036_854) return undefined;
  return sign * totalMs;
}

/** Formats milliseconds the way Go prints a Duration (`1h30m0s`, `500ms`, `0s`). */
export function formatGoDuration(durationMs: number): string {
  if (durationMs === 0) return '0s';
  const sign = durationMs < 0 ? '-' : '';
  let rest = Math.abs(durationMs);
  if (rest < 1) return `${sign}${trimNumber(rest * 1_000)}µs`;
  if (rest < 1_000) return `${sign}${trimNumber(rest)}ms`;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = `${trimNumber(rest / 1_000)}s`;
  if (hours > 0) return `${sign}${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${sign}${minutes}m${seconds}`;
  return `${sign}${seconds}`;
}

function trimNumber(value: number): string {
  return String(Number(value.toFixed(6)));
}
