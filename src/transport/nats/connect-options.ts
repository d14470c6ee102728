// What a client says about itself in CONNECT, read leniently as nats-server does (unknown fields
// ignored, wrong types taken as absent), and the reasons a client connection ends.

export const CloseReason = {
  ClientClosed: 'Client Closed',
  ServerShutdown: 'Server Shutdown',
  ParseError: 'Parse Error',
  AuthViolation: 'Authorization Violation',
  AuthTimeout: 'Authentication Timeout',
  StaleConnection: 'Stale Connection',
  SlowConsumer: 'Slow Consumer (Pending Bytes)',
  MaxPayload: 'Maximum Payload Exceeded',
  MaxConnections: 'Maximum Connections Exceeded',
  WriteError: 'Write Error',
} as const;
export type CloseReason = (typeof CloseReason)[keyof typeof CloseReason];

export interface ConnectOptions {
  verbose: boolean;
  pedantic: boolean;
  echo: boolean;
  headers: boolean;
  noResponders: boolean;
  name: string;
  lang: string;
  version: string;
  user: string;
  pass: string;
  authToken: string;
  protocol: number;
}

export const defaultConnect: ConnectOptions = {
  verbose: false,
  pedantic: false,
  echo: true,
  headers: false,
  noResponders: false,
  name: '',
  lang: '',
  version: '',
  user: '',
  pass: '',
  authToken: '',
  protocol: 0,
};

export function readConnect(json: string): ConnectOptions | null {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof raw !== 'object' || raw === null) return null;
  const r = raw as Record<string, unknown>;
  const bool = (key: string, fallback: boolean): boolean => (typeof r[key] === 'boolean' ? (r[key] as boolean) : fallback);
  const str = (key: string): string => (typeof r[key] === 'string' ? (r[key] as string) : '');
  return {
    verbose: bool('verbose', false),
    pedantic: bool('pedantic', false),
    echo: bool('echo', true),
    headers: bool('headers', false),
    noResponders: bool('no_responders', false),
    name: str('name'),
    lang: str('lang'),
    version: str('version'),
    user: str('user'),
    pass: str('pass'),
    authToken: str('auth_token'),
    protocol: typeof r['protocol'] === 'number' ? (r['protocol'] as number) : 0,
  };
}
