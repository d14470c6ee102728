// Options of the embedded NATS server, with nats-server's defaults. The config layer fills these
// from flags (`-a`, `-p`, `-m`, `--user` ...) and the `-c` conf file.

export interface NatsServerOptions {
  /** Client listen address (`-a`). */
  readonly host: string;
  /** Client port (`-p`); -1 picks a free port. */
  readonly port: number;
  /** Monitoring HTTP port (`-m`); 0 disables it, -1 picks a free port. */
  readonly httpPort: number;
  /** Monitoring listen address (defaults to `host`). */
  readonly httpHost: string;
  /** Directory where `<exe>_<pid>.ports` is written with the ports actually bound. */
  readonly portsFileDir: string;
  readonly serverName: string;
  readonly user: string;
  readonly password: string;
  readonly authToken: string;
  readonly authTimeoutMs: number;
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
  portsFileDir: '',
  serverName: '',
  user: '',
  password: '',
  authToken: '',
  authTimeoutMs: 2_000,
  maxPayloadBytes: 1024 * 1024,
  maxControlLineBytes: 4096,
  maxPendingBytes: 64 * 1024 * 1024,
  maxConnections: 64 * 1024,
  pingIntervalMs: 2 * 60_000,
  pingsOutstandingMax: 2,
  writeDeadlineMs: 10_000,
  subjectCacheEntriesMax: 1024,
});
