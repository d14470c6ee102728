// Options of the embedded NATS server, with nats-server's defaults. The config layer fills these
// from flags (`-a`, `-p`, `-m`, `--user` ...) and the `-c` conf file.
import type { UserEntry } from './auth-settings.js';
import type { TlsSettings } from './tls-settings.js';

export interface NatsServerOptions {
  /** Client listen address (`-a`). */
  readonly host: string;
  /** Client port (`-p`); -1 picks a free port. */
  readonly port: number;
  /** Monitoring HTTP port (`-m`); 0 disables it, -1 picks a free port. */
  readonly httpPort: number;
  /** Monitoring listen address (defaults to `host`). */
  readonly httpHost: string;
  /** Monitoring over HTTPS (`-ms`), with the client port's certificate; 0 disables it, -1 picks a free port. */
  readonly httpsPort: number;
  /** Directory where `<exe>_<pid>.ports` is written with the ports actually bound. */
  readonly portsFileDir: string;
  readonly serverName: string;
  readonly user: string;
  readonly password: string;
  readonly authToken: string;
  /** `authorization { users: [...] }`: each with a password (plain or bcrypt) and permissions. */
  readonly users: readonly UserEntry[];
  /** `no_auth_user`: the user of `users` that a client without credentials is taken to be. */
  readonly noAuthUser: string;
  readonly authTimeoutMs: number;
  /** TLS required of every client (`--tls*` flags, the `tls {}` block); null: plain TCP. */
  readonly tls: TlsSettings | null;
  readonly maxPayloadBytes: number;
  readonly maxControlLineBytes: number;
  readonly maxPendingBytes: number;
  readonly maxConnections: number;
  readonly pingIntervalMs: number;
  readonly pingsOutstandingMax: number;
  readonly writeDeadlineMs: number;
  /** Entries kept in the subject match cache. */
  readonly subjectCacheEntriesMax: number;
}

export const defaultNatsServerOptions: NatsServerOptions = Object.freeze({
  host: '0.0.0.0',
  port: 4222,
  httpPort: 0,
  httpHost: '',
  httpsPort: 0,
  portsFileDir: '',
  serverName: '',
  user: '',
  password: '',
  authToken: '',
  users: [],
  noAuthUser: '',
  authTimeoutMs: 2_000,
  tls: null,
  maxPayloadBytes: 1024 * 1024,
  maxControlLineBytes: 4096,
  maxPendingBytes: 64 * 1024 * 1024,
  maxConnections: 64 * 1024,
  pingIntervalMs: 2 * 60_000,
  pingsOutstandingMax: 2,
  writeDeadlineMs: 10_000,
  subjectCacheEntriesMax: 1024,
});
