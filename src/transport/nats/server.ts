// The embedded NATS server of a tstan node: accepts client sockets, indexes subscriptions, routes
// every message to its subscribers (one member per queue group), and offers in-process
// connections to the rest of tstan. Outbound data is flushed once per event-loop turn.
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import type { Logger } from '../../util/logger.js';
import { ConfigError } from '../../util/errors.js';
import { newServerId } from '../../util/nuid.js';
import { listenOn } from '../../util/listen.js';
import { ClientConnection, CloseReason, type ConnectOptions } from './client-connection.js';
import type { ConnectionSettings, NatsConnection, NatsConnector } from './connection.js';
import { LocalConnection } from './local-connection.js';
import { defaultNatsServerOptions, type NatsServerOptions } from './options.js';
import type { ServerCore } from './server-core.js';
import { Sublist } from './sublist.js';
import { ConnectionKind, type MessageTarget, type Subscription } from './subscription.js';
import { subjectMatches } from './subject.js';
import { isInternalSubject } from './internal-subjects.js';
import { MonitorHttpServer } from '../../monitor/http-server.js';
import { registerNatsMonitorRoutes } from './monitor.js';
import { advertisedHosts } from './addresses.js';
import { removePortsFile, writePortsFile } from './ports-file.js';
import { noRoutes, RouteManager, type RouteOptions, type RouteServer } from './routes.js';
import { RemoteSubscription, type RouteConnection } from './route-connection.js';
import { ClientAuthenticator, type AuthOutcome } from './client-auth.js';
import type { ClientPermissions } from './permissions.js';
import { loadTls, type LoadedTls } from './tls-context.js';
import { secureClientSocket, type PendingHandshake } from './client-tls-handshake.js';

/** How long a stopping server keeps reading from a client it has half-closed (closeGracefully). */
const CLIENT_CLOSE_GRACE_MS = 500;

/** The NATS protocol level tstan speaks; nats.js requires a semver version in INFO. */
export const natsProtocolVersion = '2.9.0';

export interface ServerCounters {
  inMsgs: number;
  outMsgs: number;
  inBytes: number;
  outBytes: number;
  slowConsumers: number;
  totalConnections: number;
}

/**
 * A check another layer adds to publishes on one subject by users with permissions: the refusal
 * to log (the check answers the client itself if it wants to), or null to let the message go on.
 */
export type PublishCheck = (permissions: ClientPermissions, reply: string | undefined, payload: Uint8Array) => string | null;

/** What another layer answers to a request its permissions refused (a STAN publish's PubAck). */
export type RefusedPublishAnswer = (subject: string, reply: string, payload: Uint8Array, violation: string) => void;

export class EmbeddedNatsServer implements ServerCore, RouteServer {
  readonly options: NatsServerOptions;
  readonly serverId = newServerId();
  readonly serverName: string;
  readonly startedAt = new Date();
  readonly sublist: Sublist<Subscription>;
  readonly clients = new Map<number, ClientConnection>();
  readonly locals = new Map<number, LocalConnection>();
  readonly counters: ServerCounters = { inMsgs: 0, outMsgs: 0, inBytes: 0, outBytes: 0, slowConsumers: 0, totalConnections: 0 };
  /** Extra monitoring routes (e.g. /streaming/*) mounted on the same HTTP port. */
  readonly monitor: MonitorHttpServer;

  private listener: NetServer | null = null;
  private boundPort = 0;
  private boundHttpPort = 0;
  private nextConnectionIdValue = 1;
  private readonly dirty = new Set<{ flush(): void }>();
  readonly routes: RouteManager;
  private flushScheduled = false;
  private routingLocalOrigin = false;
  /** Whether the last dispatch reached a congested target: a second result without an object per message. */
  private dispatchCongested = false;
  private portsFile = '';
  private running = false;
  private readonly logger: Logger;
  private readonly auth: ClientAuthenticator;
  /** The client port's TLS, loaded at start(); null without TLS. */
  private clientTls: LoadedTls | null = null;
  /** Accepted sockets still in their TLS handshake. */
  private readonly handshakes = new Set<PendingHandshake>();
  private readonly publishChecks = new Map<string, PublishCheck>();
  private readonly refusalAnswers: RefusedPublishAnswer[] = [];

  /**
   * `logger` is the node's logger: the server and each of its parts add their own `component`
   * to it (a child of a child would repeat the key in every line).
   */
  constructor(options: Partial<NatsServerOptions> = {}, logger: Logger, routeOptions: RouteOptions = noRoutes) {
    this.options = Object.freeze({ ...defaultNatsServerOptions, ...options });
    this.logger = logger.child({ component: 'nats' });
    this.auth = new ClientAuthenticator(this.options);
    this.routes = new RouteManager(this, routeOptions, logger.child({ component: 'nats-routes' }));
    this.serverName = this.options.serverName || this.serverId;
    // Client sockets never receive the nodes' internal subjects, even through `>`; nor does a
    // route through a wildcard (a remote client's `>`): the nodes' own interest in them is
    // always under the internal prefix, so internal traffic crosses a route only to a node.
    this.sublist = new Sublist<Subscription>(this.options.subjectCacheEntriesMax, {
      restricts: isInternalSubject,
      admits: (subscription) =>
        subscription.target.kind === ConnectionKind.Local ||
        (subscription.target.kind === ConnectionKind.Route && isInternalSubject(subscription.subject)),
    });
    this.monitor = new MonitorHttpServer(logger.child({ component: 'monitor' }));
    registerNatsMonitorRoutes(this.monitor, this);
  }

  get port(): number {
    return this.boundPort;
  }

  get httpPort(): number {
    return this.boundHttpPort;
  }

  get maxPayloadBytes(): number {
    return this.options.maxPayloadBytes;
  }

  get authRequired(): boolean {
    return this.auth.required;
  }

  get tlsRequired(): boolean {
    return this.options.tls !== null;
  }

  get isRunning(): boolean {
    return this.running;
  }

  async start(): Promise<void> {
    await this.auth.prepare();
    if (this.options.tls !== null) this.clientTls = await loadTls(this.options.tls, 'clients');
    const listener = createServer((socket) => this.accept(socket));
    this.listener = listener;
    this.boundPort = await listenOn(listener, this.options.host, this.options.port === -1 ? 0 : this.options.port, 'clients');
    listener.on('error', (error) => this.logger.error({ err: error }, 'client listener error'));
    if (this.routes.enabled) await this.routes.start();
    await this.startMonitoring();
    this.running = true;
    this.writePortsFile();
    this.logger.info(
      { host: this.options.host, port: this.boundPort, httpPort: this.boundHttpPort, serverId: this.serverId, tls: this.tlsRequired || undefined },
      'NATS server ready',
    );
  }

  /** `-m` over HTTP, or `-ms` over HTTPS with the client port's certificate (no client certificates asked). */
  private async startMonitoring(): Promise<void> {
    const { httpPort, httpsPort } = this.options;
    if (httpPort === 0 && httpsPort === 0) return;
    const httpHost = this.options.httpHost || this.options.host;
    if (httpsPort === 0) {
      this.boundHttpPort = await this.monitor.listen(httpHost, httpPort === -1 ? 0 : httpPort);
      return;
    }
    if (this.clientTls === null) throw new ConfigError('TLS cert and key required for HTTPS monitoring (-ms): configure TLS for clients');
    this.boundHttpPort = await this.monitor.listen(httpHost, httpsPort === -1 ? 0 : httpsPort, this.clientTls.serverOptions);
  }

  get monitorScheme(): 'http' | 'https' {
    return this.options.httpsPort !== 0 ? 'https' : 'http';
  }

  private writePortsFile(): void {
    if (!this.options.portsFileDir) return;
    this.portsFile = writePortsFile(this.options.portsFileDir, {
      host: this.options.host,
      port: this.boundPort,
      httpHost: this.options.httpHost || this.options.host,
      httpPort: this.boundHttpPort,
      clusterHost: this.routes.options.listenHost || '0.0.0.0',
      clusterPort: this.routes.port,
      tls: this.tlsRequired,
      https: this.monitorScheme === 'https',
      clusterTls: this.routes.tlsRequired,
    });
  }

  /** URLs clients may use to reach this node (INFO `connect_urls`). */
  clientUrls(): string[] {
    return advertisedHosts(this.options.host).map((host) => `${host}:${this.boundPort}`);
  }

  private accept(socket: Socket): void {
    if (this.clients.size + this.handshakes.size >= this.options.maxConnections) {
      socket.end("-ERR 'maximum connections exceeded'\r\n");
      socket.on('error', () => undefined);
      return;
    }
    const id = this.nextConnectionId();
    // The client's address in every line about it, as nats-server prefixes them with ip:port - cid.
    const address = `${(socket.remoteAddress ?? '').replace(/^::ffff:/, '')}:${socket.remotePort ?? 0}`;
    const logger = this.logger.child({ cid: id, client: address });
    const tls = this.clientTls;
    if (tls === null) {
      this.admit(new ClientConnection(id, socket, this, this.options, logger), false);
      return;
    }
    // nats-server's order: INFO in plain text, then the client's TLS handshake.
    socket.setNoDelay(true);
    socket.write(`INFO ${this.clientInfo(id, socket.remoteAddress ?? '')}\r\n`);
    const handshake = secureClientSocket(socket, tls, {
      onSecure: (secured) => {
        this.handshakes.delete(handshake);
        this.admit(new ClientConnection(id, secured, this, this.options, logger), true);
      },
      onFailed: (reason) => {
        this.handshakes.delete(handshake);
        if (this.running) logger.warn(reason);
      },
    });
    this.handshakes.add(handshake);
  }

  private admit(client: ClientConnection, infoSent: boolean): void {
    this.clients.set(client.id, client);
    client.start(infoSent);
  }

  clientInfo(clientId: number, clientIp: string): string {
    const info: Record<string, unknown> = {
      server_id: this.serverId,
      server_name: this.serverName,
      version: natsProtocolVersion,
      proto: 1,
      go: `node${process.versions.node}`,
      host: this.options.host,
      port: this.boundPort,
      headers: true,
    };
    if (this.options.tls !== null) {
      info['tls_required'] = true;
      if (this.options.tls.verify) info['tls_verify'] = true;
    }
    info['max_payload'] = this.options.maxPayloadBytes;
    info['client_id'] = clientId;
    info['client_ip'] = clientIp.replace(/^::ffff:/, '');
    if (this.authRequired) info['auth_required'] = true;
    const urls = this.connectUrls();
    if (urls.length > 1) info['connect_urls'] = urls;
    return JSON.stringify(info);
  }

  /** Client URLs of this server and, unless --no_advertise, of every server in the mesh. */
  connectUrls(): string[] {
    const own = this.clientUrls();
    if (this.routes.options.noAdvertise) return own;
    return [...new Set([...own, ...this.routes.remoteClientUrls()])];
  }

  onConnectUrlsChanged(): void {
    // A server on its way down must not tell clients that the other servers are gone.
    if (!this.running) return;
    for (const client of this.clients.values()) client.sendAsyncInfo();
  }

  nextConnectionId(): number {
    this.counters.totalConnections++;
    return this.nextConnectionIdValue++;
  }

  authenticate(connect: ConnectOptions): AuthOutcome | Promise<AuthOutcome> {
    return this.auth.authenticate(connect);
  }

  /** Adds a check to publishes on `subject` by clients that have permissions. */
  addPublishCheck(subject: string, check: PublishCheck): void {
    this.publishChecks.set(subject, check);
  }

  checkPublish(permissions: ClientPermissions, subject: string, reply: string | undefined, payload: Uint8Array): string | null {
    const check = this.publishChecks.get(subject);
    return check === undefined ? null : check(permissions, reply, payload);
  }

  /** Lets another layer answer the requests that permissions refused (each picks its subjects). */
  answerRefusedPublishes(answer: RefusedPublishAnswer): void {
    this.refusalAnswers.push(answer);
  }

  publishRefused(subject: string, reply: string, payload: Uint8Array, violation: string): void {
    for (const answer of this.refusalAnswers) answer(subject, reply, payload, violation);
  }

  addSubscription(subscription: Subscription): void {
    this.sublist.insert(subscription);
    this.routes.localSubscriptionAdded(subscription);
  }

  removeSubscription(subscription: Subscription): void {
    if (this.sublist.remove(subscription)) this.routes.localSubscriptionRemoved(subscription);
  }

  addRemote(subscription: RemoteSubscription): void {
    this.sublist.insert(subscription);
  }

  removeRemote(subscription: RemoteSubscription): void {
    this.sublist.remove(subscription);
  }

  hasInterest(subject: string): boolean {
    return this.sublist.hasInterest(subject);
  }

  routeMessage(
    origin: MessageTarget,
    subject: string,
    reply: string | undefined,
    headerBytes: number,
    payload: Uint8Array,
    wantsNoResponders: boolean,
  ): void {
    const count = this.dispatch(origin, subject, reply, headerBytes, payload, null);
    if (count === 0 && reply !== undefined && wantsNoResponders && origin instanceof ClientConnection) {
      this.answerNoResponders(origin, reply);
    }
    if (this.dispatchCongested && origin instanceof ClientConnection) this.stallProducer(origin, subject);
  }

  /** A message from a route: local subscribers only, and only the queue groups it names. */
  routeFromRemote(route: RouteConnection, subject: string, reply: string | undefined, queues: readonly string[] | null, headerBytes: number, payload: Uint8Array): void {
    this.dispatch(route, subject, reply, headerBytes, payload, queues ?? []);
  }

  /**
   * Delivers to every matching subscription and to one member of each queue group. Routes get
   * one RMSG each, naming the queue groups whose chosen member is on their side. `routedQueues`
   * is non-null for a message that came from a route: then no route is sent to (one hop).
   * Returns how many targets it reached and sets `dispatchCongested`.
   */
  private dispatch(
    origin: MessageTarget,
    subject: string,
    reply: string | undefined,
    headerBytes: number,
    payload: Uint8Array,
    routedQueues: readonly string[] | null,
  ): number {
    this.counters.inMsgs++;
    this.counters.inBytes += payload.length;
    const result = this.sublist.match(subject);
    const fromRoute = routedQueues !== null;
    const previousLocal = this.routingLocalOrigin;
    this.routingLocalOrigin = origin.kind === ConnectionKind.Local;
    let count = 0;
    let congested = false;
    // Most messages reach at most one route; a Map is made only when more routes or queues need one.
    let onlyRoute: RouteConnection | null = null;
    let toRoutes: Map<RouteConnection, string[]> | null = null;
    try {
      for (const subscription of result.plain) {
        const target = subscription.target;
        if (target.kind === ConnectionKind.Route) {
          if (fromRoute || target === onlyRoute) continue;
          if (onlyRoute === null && toRoutes === null) {
            onlyRoute = target as RouteConnection;
          } else {
            toRoutes ??= new Map();
            if (onlyRoute) toRoutes.set(onlyRoute, []);
            onlyRoute = null;
            if (!toRoutes.has(target as RouteConnection)) toRoutes.set(target as RouteConnection, []);
          }
          continue;
        }
        if (target === origin && !origin.echo) continue;
        congested = this.deliver(subscription, subject, reply, headerBytes, payload) || congested;
        count++;
      }
      for (const members of result.queues) {
        if (fromRoute && !routedQueues.includes(members[0]!.queue)) continue;
        const member = this.pickQueueMember(members, origin, fromRoute);
        if (!member) continue;
        if (member.target.kind === ConnectionKind.Route) {
          toRoutes ??= new Map();
          if (onlyRoute) toRoutes.set(onlyRoute, []);
          onlyRoute = null;
          const route = member.target as RouteConnection;
          const names = toRoutes.get(route);
          if (names) names.push(member.queue);
          else toRoutes.set(route, [member.queue]);
          continue;
        }
        congested = this.deliver(member, subject, reply, headerBytes, payload) || congested;
        count++;
      }
      if (onlyRoute) {
        onlyRoute.sendMessage(subject, reply, null, headerBytes, payload);
        this.counters.outMsgs++;
        count++;
      } else if (toRoutes) {
        for (const [route, queues] of toRoutes) {
          route.sendMessage(subject, reply, queues, headerBytes, payload);
          this.counters.outMsgs++;
          count++;
        }
      }
    } finally {
      this.routingLocalOrigin = previousLocal;
    }
    this.dispatchCongested = congested;
    return count;
  }

  private deliver(subscription: Subscription, subject: string, reply: string | undefined, headerBytes: number, payload: Uint8Array): boolean {
    if (subscription.remaining <= 0) return false;
    subscription.delivered++;
    this.counters.outMsgs++;
    this.counters.outBytes += payload.length - headerBytes;
    if (subscription.remaining !== Infinity && --subscription.remaining === 0) {
      subscription.target.removeSubscription(subscription);
    }
    return subscription.target.deliver(subscription, subject, reply, headerBytes, payload);
  }

  /** One member of a queue group, at random, remote groups weighted by their member count. */
  private pickQueueMember(members: readonly Subscription[], origin: MessageTarget, localOnly: boolean): Subscription | undefined {
    const eligible = (member: Subscription): boolean =>
      member.remaining > 0 &&
      !(member.target === origin && !origin.echo) &&
      !(localOnly && member.target.kind === ConnectionKind.Route);
    const weightOf = (member: Subscription): number => (member instanceof RemoteSubscription ? member.weight : 1);
    let total = 0;
    for (const member of members) if (eligible(member)) total += weightOf(member);
    if (total === 0) return undefined;
    let point = Math.random() * total;
    for (const member of members) {
      if (!eligible(member)) continue;
      point -= weightOf(member);
      if (point < 0) return member;
    }
    return undefined;
  }

  private answerNoResponders(origin: ClientConnection, reply: string): void {
    for (const subscription of origin.subscriptions.values()) {
      if (subjectMatches(subscription.subject, reply)) {
        origin.sendNoResponders(subscription, reply);
        return;
      }
    }
  }

  private stallProducer(producer: ClientConnection, subject: string): void {
    const result = this.sublist.match(subject);
    const targets = new Set<MessageTarget>();
    for (const subscription of result.plain) targets.add(subscription.target);
    for (const members of result.queues) for (const member of members) targets.add(member.target);
    for (const target of targets) {
      if (target instanceof ClientConnection && target.isCongested) target.stallProducer(producer);
    }
  }

  scheduleFlush(target: { flush(): void }): void {
    this.dirty.add(target);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flushAll());
  }

  private flushAll(): void {
    this.flushScheduled = false;
    for (const target of this.dirty) target.flush();
    this.dirty.clear();
  }

  countSlowConsumer(): void {
    this.counters.slowConsumers++;
  }

  onClientClosed(client: ClientConnection): void {
    this.clients.delete(client.id);
    this.dirty.delete(client);
    this.logger.debug({ cid: client.id, reason: client.closeReason }, 'client closed');
  }

  onLocalClosed(connection: LocalConnection): void {
    this.locals.delete(connection.id);
  }

  reportCallbackError(connection: LocalConnection, error: unknown): void {
    this.logger.error({ err: error, connection: connection.name }, 'in-process subscriber failed');
  }

  /** Opens an in-process connection: no socket, callbacks only. */
  connectLocal(name: string, settings: ConnectionSettings = {}): NatsConnection {
    const id = this.nextConnectionId();
    const connection = new LocalConnection(id, name, this, () => this.routingLocalOrigin, settings.inboxPrefix);
    this.locals.set(id, connection);
    return connection;
  }

  connector(): NatsConnector {
    return { connect: async (name: string, settings?: ConnectionSettings) => this.connectLocal(name, settings) };
  }

  async shutdown(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    const listener = this.listener;
    this.listener = null;
    const closed = listener ? new Promise<void>((resolve) => listener.close(() => resolve())) : Promise.resolve();
    for (const handshake of [...this.handshakes]) handshake.cancel();
    // Clients first, routes still up: what they had sent before they saw us go is still routed.
    await Promise.all([...this.clients.values()].map((client) => client.closeGracefully(CLIENT_CLOSE_GRACE_MS)));
    this.flushAll();
    await this.routes.stop();
    for (const connection of [...this.locals.values()]) await connection.close();
    this.flushAll();
    await closed;
    await this.monitor.close();
    removePortsFile(this.portsFile);
    this.logger.info('NATS server stopped');
  }
}
