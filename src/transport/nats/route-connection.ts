// One route to another server of the mesh, in nats-server 2.9's route protocol: INFO and
// CONNECT at the start, RS+/RS- interest in account $G, RMSG/HMSG messages, PING/PONG. The
// route holds the remote side's interest as subscriptions in the server's index; a message from a
// route goes to local subscribers only (one hop, full mesh). A route we accepted, when the cluster
// has credentials, must CONNECT with them before anything else, as nats-server requires.
import type { Socket } from 'node:net';
import type { Logger } from '../../util/logger.js';
import { ProtocolParser, routePayloadOps, splitArgs, type ParseError, type ParserSink } from './parser.js';
import { OutboundBuffer } from './outbound-buffer.js';
import { PingKeeper } from './ping-keeper.js';
import { ConnectionKind, Subscription, type MessageTarget } from './subscription.js';
import type { NatsServerOptions } from './options.js';

export const globalAccount = '$G';

/** What the remote server said about itself in its route INFO. */
export interface RouteInfo {
  readonly serverId: string;
  readonly serverName: string;
  readonly cluster: string;
  readonly dynamicCluster: boolean;
  readonly host: string;
  readonly port: number;
  /** `nats-route://host:port/` to reach it, when it advertises one or we derive it. */
  readonly ip: string;
  readonly connectUrls: readonly string[];
}

/** What a route needs from the route manager. */
export interface RouteHost {
  onRouteInfo(route: RouteConnection, info: RouteInfo, raw: Record<string, unknown>): void;
  onRemoteSub(route: RouteConnection, subject: string, queue: string, weight: number): void;
  onRemoteUnsub(route: RouteConnection, subject: string, queue: string): void;
  onRoutedMessage(route: RouteConnection, subject: string, reply: string | undefined, queues: readonly string[] | null, headerBytes: number, payload: Uint8Array): void;
  onRouteClosed(route: RouteConnection, reason: string): void;
  scheduleFlush(target: { flush(): void }): void;
  /** Whether a route's CONNECT carries the cluster's credentials (a Promise for a bcrypt hash). */
  checkCredentials(user: string, pass: string): boolean | Promise<boolean>;
}

/** A remote server's interest in a subject (and queue group), as one entry in the index. */
export class RemoteSubscription extends Subscription {
  /** Members of the queue group on the remote server; picking is weighted by it. */
  weight = 1;
}

function parseRouteInfo(raw: Record<string, unknown>): RouteInfo {
  const str = (key: string): string => (typeof raw[key] === 'string' ? (raw[key] as string) : '');
  const urls = Array.isArray(raw['connect_urls']) ? (raw['connect_urls'] as unknown[]).filter((u): u is string => typeof u === 'string') : [];
  return {
    serverId: str('server_id'),
    serverName: str('server_name'),
    cluster: str('cluster'),
    dynamicCluster: raw['cluster_dynamic'] === true,
    host: str('host'),
    port: typeof raw['port'] === 'number' ? (raw['port'] as number) : 0,
    ip: str('ip'),
    connectUrls: urls,
  };
}

export class RouteConnection implements MessageTarget, ParserSink {
  readonly kind = ConnectionKind.Route;
  readonly echo = false;
  /** The remote's interest, keyed `subject` or `subject queue`. */
  readonly remoteSubs = new Map<string, RemoteSubscription>();
  readonly stats = { inMsgs: 0, outMsgs: 0, inBytes: 0, outBytes: 0 };
  readonly startedAt = new Date();
  info: RouteInfo | null = null;
  closed = false;
  /** Dialled because it is configured (retried forever), not learned by gossip. */
  explicit = false;
  readonly remoteAddress: string;
  readonly remotePort: number;

  private readonly parser: ProtocolParser;
  private readonly pings: PingKeeper;
  private readonly outbound = new OutboundBuffer();
  private flushScheduled = false;
  private prefixSubject = '';
  private prefix: Buffer = Buffer.alloc(0);
  /** A route we accepted whose CONNECT has not shown the cluster's credentials yet. */
  private awaitingCredentials: boolean;
  private authTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly id: number,
    private readonly socket: Socket,
    /** The URL we dialled, for a route we solicited; '' for one we accepted. */
    readonly solicitedUrl: string,
    private readonly host: RouteHost,
    private readonly options: NatsServerOptions,
    private readonly logger: Logger,
    /** > 0: the cluster has credentials and the peer has this long to present them. */
    private readonly credentialsTimeoutMs = 0,
  ) {
    this.awaitingCredentials = credentialsTimeoutMs > 0;
    this.remoteAddress = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    this.remotePort = socket.remotePort ?? 0;
    this.parser = new ProtocolParser(this, { maxControlLineBytes: options.maxControlLineBytes * 4, maxPayloadBytes: options.maxPayloadBytes + 64 * 1024 }, routePayloadOps);
    this.pings = new PingKeeper(
      options.pingIntervalMs,
      options.pingsOutstandingMax,
      () => this.sendText('PING\r\n'),
      () => this.close('stale connection'),
    );
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.parser.parse(chunk));
    socket.on('error', (error) => this.logger.debug({ err: error.message }, 'route socket error'));
    socket.on('close', () => this.close('connection closed'));
  }

  get solicited(): boolean {
    return this.solicitedUrl !== '';
  }

  /** Starts the handshake: CONNECT first if we dialled, then our INFO. */
  start(connectJson: string, infoJson: string): void {
    if (this.solicited) this.sendText(`CONNECT ${connectJson}\r\n`);
    this.sendText(`INFO ${infoJson}\r\n`);
    this.pings.start();
    if (this.awaitingCredentials) {
      this.authTimer = setTimeout(() => this.refuse('Authentication Timeout'), this.credentialsTimeoutMs);
      this.authTimer.unref();
    }
  }


  // ---- ParserSink ----

  onControl(op: string, rest: string): void {
    if (this.awaitingCredentials) {
      if (op === 'CONNECT') this.handleConnect(rest);
      else this.refuse('Authorization Violation');
      return;
    }
    switch (op) {
      case 'INFO':
        this.handleInfo(rest);
        return;
      case 'CONNECT':
      case '+OK':
        return;
      case 'PING':
        this.sendText('PONG\r\n');
        return;
      case 'PONG':
        this.pings.pong();
        return;
      case 'RS+':
      case 'LS+':
        this.handleSub(op === 'LS+', splitArgs(rest));
        return;
      case 'RS-':
      case 'LS-':
        this.handleUnsub(op === 'LS-', splitArgs(rest));
        return;
      case '-ERR':
        this.logger.warn({ error: rest }, 'route reported an error');
        return;
      default:
        this.logger.warn({ op }, 'unknown route protocol operation');
        this.close('protocol violation');
    }
  }

  /** The peer's CONNECT while the cluster's credentials are awaited. */
  private handleConnect(json: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(json);
    } catch {
      raw = null;
    }
    const fields = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
    const text = (key: string): string => (typeof fields[key] === 'string' ? (fields[key] as string) : '');
    const verdict = this.host.checkCredentials(text('user'), text('pass'));
    if (typeof verdict === 'boolean') {
      this.afterCredentials(verdict);
      return;
    }
    // A bcrypt comparison: nothing more is read from this route until it is done.
    this.parser.suspend();
    this.socket.pause();
    void verdict.then((passed) => {
      if (this.closed) return;
      this.socket.resume();
      this.afterCredentials(passed);
      this.parser.resume();
    });
  }

  private afterCredentials(passed: boolean): void {
    if (!passed) {
      this.refuse('Authorization Violation');
      return;
    }
    this.awaitingCredentials = false;
    if (this.authTimer) clearTimeout(this.authTimer);
    this.authTimer = null;
  }

  /** nats-server's answer to a route without the cluster's credentials: -ERR, then closed. */
  private refuse(text: string): void {
    if (this.closed) return;
    this.logger.warn({ remote: `${this.remoteAddress}:${this.remotePort}` }, `route refused: ${text}`);
    this.sendText(`-ERR '${text}'\r\n`);
    this.close(text === 'Authentication Timeout' ? 'authentication timeout' : 'authorization violation');
  }

  private handleInfo(json: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(json);
    } catch {
      this.close('malformed INFO');
      return;
    }
    if (typeof raw !== 'object' || raw === null) {
      this.close('malformed INFO');
      return;
    }
    const info = parseRouteInfo(raw as Record<string, unknown>);
    if (info.serverId === '') {
      this.close('INFO without server_id');
      return;
    }
    this.host.onRouteInfo(this, info, raw as Record<string, unknown>);
  }

  private handleSub(withOrigin: boolean, args: string[]): void {
    const offset = withOrigin ? 1 : 0;
    const account = args[offset];
    const subject = args[offset + 1];
    if (account === undefined || subject === undefined || (args.length !== 2 + offset && args.length !== 4 + offset)) {
      this.close('malformed RS+');
      return;
    }
    if (account !== globalAccount) return;
    const queue = args.length === 4 + offset ? args[offset + 2]! : '';
    const weight = queue ? Math.max(1, Number(args[offset + 3]) || 1) : 1;
    this.host.onRemoteSub(this, subject, queue, weight);
  }

  private handleUnsub(withOrigin: boolean, args: string[]): void {
    const offset = withOrigin ? 1 : 0;
    const account = args[offset];
    const subject = args[offset + 1];
    if (account === undefined || subject === undefined) {
      this.close('malformed RS-');
      return;
    }
    if (account !== globalAccount) return;
    this.host.onRemoteUnsub(this, subject, args[offset + 2] ?? '');
  }

  onMessage(op: string, args: string[], headerBytes: number, payload: Uint8Array): void {
    if (this.awaitingCredentials) {
      this.refuse('Authorization Violation');
      return;
    }
    // LMSG carries the origin cluster first; RMSG and HMSG start with the account.
    const base = op === 'LMSG' ? 1 : 0;
    if (args[base] !== globalAccount || args.length < base + 2) return;
    const subject = args[base + 1]!;
    let reply: string | undefined;
    let queues: string[] | null = null;
    const marker = args[base + 2];
    if (marker === '+') {
      reply = args[base + 3];
      queues = args.slice(base + 4);
    } else if (marker === '|') {
      queues = args.slice(base + 3);
    } else if (marker !== undefined) {
      reply = marker;
    }
    this.stats.inMsgs++;
    this.stats.inBytes += payload.length;
    this.host.onRoutedMessage(this, subject, reply, queues, op === 'HMSG' ? headerBytes : 0, payload);
  }

  onParseError(error: ParseError, detail: string): void {
    this.logger.warn({ error, detail }, 'route protocol error');
    this.close('parse error');
  }

  // ---- sending ----

  sendInterest(subject: string, queue: string, weight: number): void {
    this.sendText(queue ? `RS+ ${globalAccount} ${subject} ${queue} ${weight}\r\n` : `RS+ ${globalAccount} ${subject}\r\n`);
  }

  sendNoInterest(subject: string, queue: string): void {
    this.sendText(queue ? `RS- ${globalAccount} ${subject} ${queue}\r\n` : `RS- ${globalAccount} ${subject}\r\n`);
  }

  sendInfo(infoJson: string): void {
    this.sendText(`INFO ${infoJson}\r\n`);
  }

  /** Forwards one message; `queues` names the groups whose chosen member is on the remote side. */
  sendMessage(subject: string, reply: string | undefined, queues: readonly string[] | null, headerBytes: number, payload: Uint8Array): void {
    if (this.closed) return;
    if (headerBytes === 0 && !reply && (!queues || queues.length === 0)) {
      // The common case: reuse the encoded `RMSG $G <subject> ` while the subject repeats.
      if (this.prefixSubject !== subject) {
        this.prefix = Buffer.from(`RMSG ${globalAccount} ${subject} `);
        this.prefixSubject = subject;
      }
      this.outbound.writeBytes(this.prefix);
      this.outbound.writeSizeLine(payload.length);
      this.outbound.writePayload(payload);
      this.stats.outMsgs++;
      this.stats.outBytes += payload.length;
      this.scheduleFlush();
      return;
    }
    let middle = '';
    if (queues && queues.length > 0) middle = reply ? ` + ${reply} ${queues.join(' ')}` : ` | ${queues.join(' ')}`;
    else if (reply) middle = ` ${reply}`;
    if (headerBytes > 0) {
      this.outbound.writeText(`HMSG ${globalAccount} ${subject}${middle} ${headerBytes} `);
    } else {
      this.outbound.writeText(`RMSG ${globalAccount} ${subject}${middle} `);
    }
    this.outbound.writeSizeLine(payload.length);
    this.outbound.writePayload(payload);
    this.stats.outMsgs++;
    this.stats.outBytes += payload.length;
    this.scheduleFlush();
  }

  deliver(_subscription: Subscription, subject: string, reply: string | undefined, headerBytes: number, payload: Uint8Array): boolean {
    this.sendMessage(subject, reply, null, headerBytes, payload);
    return false;
  }

  removeSubscription(): void {
    // Remote interest ends only by RS- or the route closing.
  }

  private sendText(text: string): void {
    if (this.closed) return;
    this.outbound.writeText(text);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.host.scheduleFlush(this);
  }

  flush(): void {
    this.flushScheduled = false;
    const chunks = this.outbound.take();
    if (chunks.length === 0 || this.socket.destroyed) return;
    this.socket.cork();
    for (const chunk of chunks) this.socket.write(chunk);
    this.socket.uncork();
  }

  close(reason: string): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.parser.halt();
    this.pings.stop();
    if (this.authTimer) clearTimeout(this.authTimer);
    this.socket.end(() => void this.socket.destroy());
    this.host.onRouteClosed(this, reason);
  }
}
