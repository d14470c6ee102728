// Human-readable log lines for a terminal, in nats-server's shape:
//   [4711] 2026/12/06 12:57:20.183 [INF] nats: NATS server ready host=127.0.0.1 port=4222
// pino writes one JSON object per line; this turns each into one text line. Only used when the
// output is a terminal (or `--log_format text`), so the JSON path pays nothing for it, and it
// runs in the process rather than in a pino transport worker, so start-up pays nothing either.

const levelTags: Readonly<Record<number, string>> = { 10: 'TRC', 20: 'DBG', 30: 'INF', 40: 'WRN', 50: 'ERR', 60: 'FTL' };
const levelColors: Readonly<Record<number, string>> = { 10: '90', 20: '36', 30: '32', 40: '33', 50: '31', 60: '35' };
/** Keys shown in the line's prefix, not repeated among the fields. */
const prefixKeys = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'component']);

export interface TextFormatOptions {
  /** ANSI colours for the level tag (a terminal that is not told NO_COLOR). */
  readonly color: boolean;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/** `2026/12/06 12:57:20.183` in local time, as nats-server prints it. */
export function formatLogTime(ms: number): string {
  const d = new Date(ms);
  const date = `${d.getFullYear()}/${pad(d.getMonth() + 1, 2)}/${pad(d.getDate(), 2)}`;
  return `${date} ${pad(d.getHours(), 2)}:${pad(d.getMinutes(), 2)}:${pad(d.getSeconds(), 2)}.${pad(d.getMilliseconds(), 3)}`;
}

function fieldText(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

/** One pino JSON line as text; a line that is not a JSON object comes back unchanged. */
export function formatLogLine(line: string, options: TextFormatOptions): string {
  let record: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return line.endsWith('\n') ? line : `${line}\n`;
    record = parsed as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const level = typeof record['level'] === 'number' ? record['level'] : 30;
  const tag = levelTags[level] ?? `L${level}`;
  const colored = options.color ? `\u001b[${levelColors[level] ?? '0'}m[${tag}]\u001b[0m` : `[${tag}]`;
  const parts: string[] = [];
  if (typeof record['pid'] === 'number') parts.push(`[${record['pid']}]`);
  if (typeof record['time'] === 'number') parts.push(formatLogTime(record['time']));
  parts.push(colored);
  const component = typeof record['component'] === 'string' ? `${record['component']}: ` : '';
  parts.push(`${component}${typeof record['msg'] === 'string' ? record['msg'] : ''}`);
  const fields: string[] = [];
  let stack = '';
  for (const [key, value] of Object.entries(record)) {
    if (prefixKeys.has(key) || value === undefined) continue;
    if (key === 'err' && typeof value === 'object' && value !== null) {
      const err = value as { message?: unknown; stack?: unknown };
      fields.push(`err=${fieldText(err.message ?? '')}`);
      if (typeof err.stack === 'string') stack = `\n${err.stack}`;
      continue;
    }
    fields.push(`${key}=${fieldText(value)}`);
  }
  return `${parts.join(' ')}${fields.length > 0 ? ` ${fields.join(' ')}` : ''}${stack}\n`;
}
