// One client socket: parses what the client sends, applies CONNECT options, keeps its
// subscriptions, and writes MSG/HMSG frames into an outbound buffer that the server flushes once
// per event-loop turn. Protocol errors answer `-ERR` with nats-server's texts.
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../../util/logger.js';
import { ProtocolParser, ParseError, clientPayloadOps, splitArgs, type ParserSink } from './parser.js';
import { OutboundBuffer } from './outbound-buffer.js';
import { PingKeeper } from './ping-keeper.js';
import { CloseReason, defaultConnect, readConnect, type ConnectOptions } from './connect-options.js';

export { CloseReason, type ConnectOptions } from './connect-options.js';

/** Longest a producer is paused for one congested consumer (nats-server stalls up to 1 s). */
const stallMaxMs = 250;
import { ConnectionKind, Subscription, type MessageTarget } from './subscription.js';
import { isValidPublishSubject, isValidSubscribeSubject } from './subject.js';
import { isInternalSubject, PermissionViolation } from './internal-subjects.js';
import type { NatsServerOptions } from './options.js';
import type { ServerCore } from './server-core.js';
import type { AuthOutcome } from './client-auth.js';
import { ClientPermissions } from './permissions.js';

export interface ConnectionStats {
  inMsgs: number;
  outMsgs: number;
  inBytes: number;
  outBytes: number;
}

export class ClientConnection implements MessageTarget, ParserSink {
  readonly kind = ConnectionKind.Client;
  readonly subscriptions = new Map<string, Subscription>();
  readonly stats: ConnectionStats = { inMsgs: 0, outMsgs: 0, inBytes: 0, outBytes: 0 };
  readonly startedAt = new Date();
  /** Milliseconds since the epoch of the last read from the client. */
  lastActivityMs = Date.now();
  connect: ConnectOptions = defaultConnect;
  /** The authenticated user ('' without users or for a token). */
  user = '';
  /** The user's permissions; null when it may do everything. */
  permissions: ClientPermissions | null = null;
  closed = false;
  closeReason: CloseReason | null = null;
  readonly remoteAddress: string;
  readonly remotePort: number;

  private readonly parser: ProtocolParser;
  private readonly pings: PingKeeper;
  private readonly outbound = new OutboundBuffer();
  private connectReceived = false;
  private authTimer: NodeJS.Timeout | null = null;
  private flushScheduled = false;
  /** Producers paused because this connection's outbound queue is congested. */
  private readonly stalledProducers = new Set<ClientConnection>();
  private paused = false;
  private stallTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly id: number,
    private readonly socket: Socket,
    private readonly server: ServerCore,
    private readonly options: NatsServerOptions,
    private readonly logger: Logger,
  ) {
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    this.parser = new ProtocolParser(this, options, clientPayloadOps);
    this.pings = new PingKeeper(
      options.pingIntervalMs,
      options.pingsOutstandingMax,
      () => this.sendText('PING\r\n'),
      () => this.fatal(CloseReason.StaleConnection, 'Stale Connection'),
    );
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.logger.debug({ err: error.message }, 'client socket error'));
    socket.on('close', () => this.close(CloseReason.ClientClosed));
    socket.on('drain', () => this.onDrain());
  }

  get echo(): boolean {
    return this.connect.echo;
  }

  /** `1.3` for a TLS connection (as nats-server's /connz shows it), undefined without TLS. */
  get tlsVersion(): string | undefined {
    const protocol = 'getProtocol' in this.socket ? (this.socket as TLSSocket).getProtocol() : null;
    return protocol === null ? undefined : protocol.replace(/^TLSv/, '');
  }

  get tlsCipher(): string | undefined {
    return 'getCipher' in this.socket ? (this.socket as TLSSocket).getCipher().standardName : undefined;
  }

  get pendingBytes(): number {
    return this.outbound.pendingBytes + this.socket.writableLength;
  }

  /** `infoSent`: the INFO went out before a TLS handshake, in plain text. */
  start(infoSent = false): void {
    if (!infoSent) {
      this.sendText(`INFO ${this.server.clientInfo(this.id, this.remoteAddress)}\r\n`);
      this.flush();
    }
    if (this.server.authRequired) {
      this.authTimer = setTimeout(() => this.fatal(CloseReason.AuthTimeout, 'Authentication Timeout'), this.options.authTimeoutMs);
      this.authTimer.unref();
    }
    this.pings.start();
  }

  private onData(chunk: Buffer): void {
    this.lastActivityMs = Date.now();
    this.parser.parse(chunk);
  }


  // ---- ParserSink ----

  onControl(op: string, rest: string): void {
    if (op === 'CONNECT') {
      this.handleConnect(rest);
      return;
    }
    if (!this.connectReceived && this.server.authRequired) {
      this.fatal(CloseReason.AuthViolation, 'Authorization Violation');
      return;
    }
    switch (op) {
      case 'PING':
        this.sendText('PONG\r\n');
        return;
      case 'PONG':
        this.pings.pong();
        return;
      case 'SUB':
        this.handleSub(splitArgs(rest));
        return;
      case 'UNSUB':
        this.handleUnsub(splitArgs(rest));
        return;
      case '+OK':
      case '-ERR':
      case 'INFO':
        return;
      default:
        this.fatal(CloseReason.ParseError, ParseError.UnknownOperation);
    }
  }

  onMessage(op: string, args: string[], headerBytes: number, payload: Uint8Array): void {
    if (!this.connectReceived && this.server.authRequired) {
      this.fatal(CloseReason.AuthViolation, 'Authorization Violation');
      return;
    }
    if (args.length > 2) {
      this.fatal(CloseReason.ParseError, ParseError.UnknownOperation);
      return;
    }
    const subject = args[0]!;
    const reply = args[1];
    if (this.connect.pedantic && !isValidPublishSubject(subject)) {
      this.sendErr('Invalid Publish Subject');
      return;
    }
    if (isInternalSubject(subject) || (reply !== undefined && isInternalSubject(reply))) {
      this.refuse(isInternalSubject(subject) ? PermissionViolation.publish(subject) : PermissionViolation.reply(reply!));
      return;
    }
    if (this.permissions !== null && !this.passesPublishChecks(this.permissions, subject, reply, payload)) return;
    this.stats.inMsgs++;
    this.stats.inBytes += payload.length;
    if (this.connect.verbose) this.sendText('+OK\r\n');
    this.server.routeMessage(this, subject, reply, op === 'HPUB' ? headerBytes : 0, payload, this.connect.noResponders && this.connect.headers);
  }

  onParseError(error: ParseError, detail: string): void {
    const reason = error === ParseError.PayloadTooLarge ? CloseReason.MaxPayload : CloseReason.ParseError;
    const text = error === ParseError.BadPayloadSize || error === ParseError.MissingPayloadTerminator ? ParseError.UnknownOperation : error;
    this.fatal(reason, text, detail === '' ? error : `${error}: ${detail}`);
  }

  /** nats-server's permission checks, then the server's own (a STAN subscription's channel). */
  private passesPublishChecks(permissions: ClientPermissions, subject: string, reply: string | undefined, payload: Uint8Array): boolean {
    if (!permissions.canPublish(subject)) {
      const violation = PermissionViolation.publish(subject);
      this.refuse(violation);
      if (reply !== undefined) this.server.publishRefused(subject, reply, payload, violation);
      return false;
    }
    const refusal = this.server.checkPublish(permissions, subject, reply, payload);
    if (refusal === null) return true;
    this.logger.warn({ user: this.user, name: this.connect.name }, refusal);
    return false;
  }

  private handleConnect(json: string): void {
    const connect = readConnect(json);
    if (!connect) {
      this.fatal(CloseReason.ParseError, ParseError.UnknownOperation);
      return;
    }
    if (!this.server.authRequired) {
      this.acceptConnect(connect, null);
      return;
    }
    const outcome = this.server.authenticate(connect);
    if (!(outcome instanceof Promise)) {
      this.acceptConnect(connect, outcome);
      return;
    }
    // A bcrypt comparison: read nothing more from this client until the verdict is in.
    this.parser.suspend();
    this.socket.pause();
    outcome.then(
      (verdict) => this.afterAuthentication(connect, verdict),
      () => this.afterAuthentication(connect, { ok: false }),
    );
  }

  private afterAuthentication(connect: ConnectOptions, verdict: AuthOutcome): void {
    if (this.closed) return;
    if (!this.paused) this.socket.resume();
    this.acceptConnect(connect, verdict);
    this.parser.resume();
  }

  /** `verdict` null: no authorization configured. Credentials are not kept past this point. */
  private acceptConnect(connect: ConnectOptions, verdict: AuthOutcome | null): void {
    if (verdict !== null && !verdict.ok) {
      this.fatal(CloseReason.AuthViolation, 'Authorization Violation');
      return;
    }
    if (this.authTimer) clearTimeout(this.authTimer);
    this.authTimer = null;
    if (verdict !== null) {
      this.user = verdict.user;
      this.permissions = verdict.permissions === null ? null : new ClientPermissions(verdict.permissions);
    }
    this.connect = { ...connect, user: '', pass: '', authToken: '' };
    this.connectReceived = true;
    if (connect.verbose) this.sendText('+OK\r\n');
  }

  private handleSub(args: string[]): void {
    if (args.length < 2 || args.length > 3) {
      this.fatal(CloseReason.ParseError, ParseError.UnknownOperation);
      return;
    }
    const subject = args[0]!;
    const queue = args.length === 3 ? args[1]! : '';
    const sid = args[args.length - 1]!;
    if (!isValidSubscribeSubject(subject) || (queue !== '' && !isValidSubscribeSubject(queue))) {
      this.sendErr('Invalid Subject');
      return;
    }
    if (isInternalSubject(subject) || (this.permissions !== null && !this.permissions.canSubscribe(subject))) {
      this.refuse(PermissionViolation.subscription(subject, queue));
      return;
    }
    if (this.subscriptions.has(sid)) {
      if (this.connect.verbose) this.sendText('+OK\r\n');
      return;
    }
    const subscription = new Subscription(this, sid, subject, queue);
    this.subscriptions.set(sid, subscription);
    this.server.addSubscription(subscription);
    if (this.connect.verbose) this.sendText('+OK\r\n');
  }

  private handleUnsub(args: string[]): void {
    if (args.length < 1 || args.length > 2) {
      this.fatal(CloseReason.ParseError, ParseError.UnknownOperation);
      return;
    }
    const subscription = this.subscriptions.get(args[0]!);
    if (subscription) {
      const max = args.length === 2 ? Number(args[1]) : 0;
      if (Number.isInteger(max) && max > 0 && subscription.delivered < max) {
        subscription.remaining = max - subscription.delivered;
      } else {
        this.removeSubscription(subscription);
      }
    }
    if (this.connect.verbose) this.sendText('+OK\r\n');
  }

  /**
   * nats-server's permission error, connection kept: for the user's permissions, and for the
   * nodes' internal subjects, which are not for clients whatever the permissions say.
   */
  private refuse(violation: string): void {
    this.logger.warn({ cid: this.id, client: `${this.remoteAddress}:${this.remotePort}`, user: this.user || undefined, name: this.connect.name }, violation);
    this.sendErr(violation);
  }

  removeSubscription(subscription: Subscription): void {
    if (this.subscriptions.delete(subscription.sid)) this.server.removeSubscription(subscription);
  }

  // ---- MessageTarget ----

  deliver(subscription: Subscription, subject: string, reply: string | undefined, headerBytes: number, payload: Uint8Array): boolean {
    if (this.closed) return false;
    if (this.permissions !== null) {
      if (this.permissions.deliveryDenied(subject)) return false;
      if (reply !== undefined) this.permissions.noteRequest(reply);
    }
    if (headerBytes > 0 && this.connect.headers) {
      const replyPart = reply ? ` ${reply}` : '';
      this.outbound.writeText(`HMSG ${subject} ${subscription.sid}${replyPart} ${headerBytes} ${payload.length}\r\n`);
      this.outbound.writePayload(payload);
      this.stats.outBytes += payload.length;
    } else {
      const body = headerBytes > 0 ? payload.subarray(headerBytes) : payload;
      // Most deliveries repeat the subject of the previous one: reuse its encoded prefix.
      if (subscription.msgPrefixSubject !== subject) {
        subscription.msgPrefix = Buffer.from(`MSG ${subject} ${subscription.sid} `);
        subscription.msgPrefixSubject = subject;
      }
      this.outbound.writeBytes(subscription.msgPrefix);
      if (reply) this.outbound.writeText(`${reply} `);
      this.outbound.writeSizeLine(body.length);
      this.outbound.writePayload(body);
      this.stats.outBytes += body.length;
    }
    this.stats.outMsgs++;
    return this.afterWrite();
  }

  /** Tells a client that understands async INFO (protocol 1) about a changed mesh. */
  sendAsyncInfo(): void {
    if (this.closed || !this.connectReceived || this.connect.protocol < 1) return;
    this.sendText(`INFO ${this.server.clientInfo(this.id, this.remoteAddress)}\r\n`);
  }

  /** The no-responders status for a request that nobody can answer. */
  sendNoResponders(subscription: Subscription, reply: string): void {
    const status = 'NATS/1.0 503\r\n\r\n';
    this.outbound.writeText(`HMSG ${reply} ${subscription.sid} ${status.length} ${status.length}\r\n${status}\r\n`);
    this.afterWrite();
  }

  private afterWrite(): boolean {
    const socketBytes = this.socket.writableLength;
    const pending = this.outbound.pendingBytes + socketBytes;
    if (pending > this.options.maxPendingBytes) {
      this.logger.warn({ pending }, 'slow consumer detected, closing connection');
      this.server.countSlowConsumer();
      this.close(CloseReason.SlowConsumer);
      return false;
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.server.scheduleFlush(this);
    }
    return socketBytes > this.options.maxPendingBytes / 2;
  }

  /**
   * Whether the socket itself holds a backlog past half the pending limit. Bytes still in the
   * outbound buffer do not count: they leave at this turn's flush, and only a socket backlog
   * guarantees a 'drain' event to release stalled producers.
   */
  get isCongested(): boolean {
    return this.socket.writableLength > this.options.maxPendingBytes / 2;
  }

  private sendText(text: string): void {
    if (this.closed) return;
    this.outbound.writeText(text);
    this.afterWrite();
  }

  private sendErr(text: string): void {
    this.sendText(`-ERR '${text}'\r\n`);
  }

  /** Sends `-ERR` and closes after the error has been written. */
  /**
   * Sends -ERR and closes. Said in the log at the default level with the client's address (the
   * logger's bindings), as nats-server does: a client closed for a bad frame, an oversized payload
   * or bad credentials is what an operator looks for. A stale connection is routine: debug.
   */
  private fatal(reason: CloseReason, text: string, detail = text): void {
    if (this.closed) return;
    if (reason === CloseReason.StaleConnection) this.logger.debug({ reason }, `closing client: ${detail}`);
    else this.logger.warn({ reason }, `closing client: ${detail}`);
    this.sendErr(text);
    this.close(reason);
  }

  /** Writes what was buffered during this turn; called by the server's flush pass. */
  flush(): void {
    this.flushScheduled = false;
    const chunks = this.outbound.take();
    if (chunks.length === 0 || this.socket.destroyed || this.socket.writableEnded) return;
    if (chunks.length === 1) {
      this.socket.write(chunks[0]!);
      return;
    }
    this.socket.cork();
    for (const chunk of chunks) this.socket.write(chunk);
    this.socket.uncork();
  }

  // ---- producer flow control ----

  /**
   * Pauses reading from `producer` until this connection's outbound queue drains, or for at most
   * `stallMaxMs`: a consumer that never reads must end as a slow consumer, not block its producer.
   */
  stallProducer(producer: ClientConnection): void {
    if (producer === this || producer.closed) return;
    this.stalledProducers.add(producer);
    producer.pauseReading();
    if (!this.stallTimer) {
      this.stallTimer = setTimeout(() => this.onDrain(), stallMaxMs);
      this.stallTimer.unref();
    }
  }

  private pauseReading(): void {
    if (!this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  private resumeReading(): void {
    if (this.paused && !this.closed) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private onDrain(): void {
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = null;
    for (const producer of this.stalledProducers) producer.resumeReading();
    this.stalledProducers.clear();
  }

  /**
   * The server stops: nothing more is delivered and the connection is half-closed, but what the
   * client sent before it saw that (publishes, acks in flight) is still read and routed until it
   * hangs up or `graceMs` passes — closing outright would drop it, and the client would have to
   * send it again to another server (or, for an ack, be sent the message again).
   */
  closeGracefully(graceMs: number): Promise<void> {
    if (this.closed || this.socket.destroyed) {
      this.close(CloseReason.ServerShutdown);
      return Promise.resolve();
    }
    for (const subscription of this.subscriptions.values()) this.server.removeSubscription(subscription);
    this.subscriptions.clear();
    this.pings.stop();
    this.flush();
    return new Promise((resolve) => {
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.close(CloseReason.ServerShutdown);
        resolve();
      };
      const timer = setTimeout(finish, graceMs);
      this.socket.once('end', finish);
      this.socket.once('close', finish);
      this.socket.end();
    });
  }

  close(reason: CloseReason): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    this.parser.halt();
    this.pings.stop();
    if (this.authTimer) clearTimeout(this.authTimer);
    this.onDrain();
    for (const subscription of this.subscriptions.values()) this.server.removeSubscription(subscription);
    this.subscriptions.clear();
    const chunks = this.outbound.take();
    if (reason === CloseReason.SlowConsumer || reason === CloseReason.ClientClosed || this.socket.writableEnded) {
      this.socket.destroy();
    } else {
      // Send what is buffered (an -ERR, say), then let go without waiting for the peer.
      for (const chunk of chunks) this.socket.write(chunk);
      this.socket.end(() => void this.socket.destroy());
      this.socket.setTimeout(this.options.writeDeadlineMs, () => this.socket.destroy());
    }
    this.server.onClientClosed(this);
  }
}
