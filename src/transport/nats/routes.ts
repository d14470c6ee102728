// The mesh of routes (`--cluster`, `--routes`): listens for routes, dials the configured ones and
// those learned by gossip, keeps one route per remote server (duplicates resolved by server_id),
// re-dials explicit routes with backoff, and keeps every route informed of local interest.
// With `cluster { tls {} }` every route is TLS from its first byte, both ways (nats-server's
// order); with `cluster { authorization {} }` a route we accept must CONNECT with the cluster's
// user and password first.
import { connect as dial, createServer, type Server as NetServer, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../util/logger.js';
import { advertisedHosts } from './addresses.js';
import { listenOn } from '../../util/listen.js';
import type { NatsServerOptions } from './options.js';
import { RemoteSubscription, RouteConnection, type RouteHost, type RouteInfo } from './route-connection.js';
import type { Subscription } from './subscription.js';
import type { TlsSettings } from './tls-settings.js';
import { loadTls, type LoadedTls } from './tls-context.js';
import { sameSecret, SecretCheck } from './secret-check.js';
import { isBcrypt } from './auth-settings.js';
import { redactUrlCredentials } from './url-credentials.js';

export interface RouteOptions {
  /** Host routes listen on; '' with port 0 when no route listener is configured. */
  readonly listenHost: string;
  /** 0 = no listener; -1 picks a free port. */
  readonly listenPort: number;
  /** Cluster name; '' makes one up (dynamic) and adopts the name of a non-dynamic peer. */
  readonly name: string;
  /** Explicit routes to dial: `nats-route://host:port` or `nats://host:port`. */
  readonly routes: readonly string[];
  /** Host:port to advertise to other servers instead of the listen address. */
  readonly advertise: string;
  /** Do not advertise other servers' client URLs to clients. */
  readonly noAdvertise: boolean;
  /** Attempts to dial an implicit (gossiped) route before giving up; explicit routes retry forever. */
  readonly connectRetries: number;
  /** `cluster { tls {} }`: every route over TLS; null for plain TCP. */
  readonly tls: TlsSettings | null;
  /**
   * `cluster { authorization {} }` or `--cluster nats://user:pass@...`: what a route we accept must
   * present (the password plain or a bcrypt hash), and what we present to routes learned by gossip.
   */
  readonly user: string;
  readonly password: string;
  readonly authTimeoutMs: number;
}

export const noRoutes: RouteOptions = Object.freeze({
  listenHost: '',
  listenPort: 0,
  name: '',
  routes: [],
  advertise: '',
  noAdvertise: false,
  connectRetries: 0,
  tls: null,
  user: '',
  password: '',
  authTimeoutMs: 2_000,
});

/** What the route manager needs from the server it belongs to. */
export interface RouteServer {
  readonly serverId: string;
  readonly serverName: string;
  readonly options: NatsServerOptions;
  /** Client URLs (host:port) of this server. */
  clientUrls(): string[];
  addRemote(subscription: RemoteSubscription): void;
  removeRemote(subscription: RemoteSubscription): void;
  routeFromRemote(route: RouteConnection, subject: string, reply: string | undefined, queues: readonly string[] | null, headerBytes: number, payload: Uint8Array): void;
  scheduleFlush(target: { flush(): void }): void;
  /** The set of client URLs across the mesh changed: tell clients. */
  onConnectUrlsChanged(): void;
  nextConnectionId(): number;
}

const reconnectDelayMs = 1_000;

function interestKey(subject: string, queue: string): string {
  return queue ? `${subject} ${queue}` : subject;
}

export class RouteManager implements RouteHost {
  /** Registered routes by remote server ID. */
  readonly routes = new Map<string, RouteConnection>();
  private readonly pending = new Set<RouteConnection>();
  /** Local interest: plain subscriptions counted per subject, queue members per `subject queue`. */
  private readonly localInterest = new Map<string, { subject: string; queue: string; count: number }>();
  private listener: NetServer | null = null;
  private boundPort = 0;
  private clusterName: string;
  private readonly dynamicName: boolean;
  private stopped = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** URLs being dialled or connected, so gossip does not dial the same server twice. */
  private readonly dialling = new Set<string>();
  private routeTls: LoadedTls | null = null;
  private readonly secrets = new SecretCheck();
  /** Sockets in their TLS handshake, closed at stop(). */
  private readonly handshaking = new Set<Socket>();

  constructor(
    private readonly server: RouteServer,
    readonly options: RouteOptions,
    private readonly logger: Logger,
  ) {
    this.dynamicName = options.name === '';
    this.clusterName = options.name || randomBytes(11).toString('base64url');
  }

  get enabled(): boolean {
    return this.options.listenPort !== 0 || this.options.routes.length > 0;
  }

  get port(): number {
    return this.boundPort;
  }

  get name(): string {
    return this.clusterName;
  }

  get tlsRequired(): boolean {
    return this.options.tls !== null;
  }

  get authRequired(): boolean {
    return this.options.user !== '';
  }

  async start(): Promise<void> {
    if (this.options.tls !== null) this.routeTls = await loadTls(this.options.tls, 'routes');
    await this.secrets.prepare([this.options.password]);
    if (this.options.listenPort !== 0) {
      const listener = createServer((socket) => this.accept(socket));
      this.listener = listener;
      const port = this.options.listenPort === -1 ? 0 : this.options.listenPort;
      this.boundPort = await listenOn(listener, this.options.listenHost || '0.0.0.0', port, 'routes');
      listener.on('error', (error) => this.logger.error({ err: error }, 'route listener error'));
      this.logger.info({ port: this.boundPort, cluster: this.clusterName }, 'listening for route connections');
    }
    for (const url of this.options.routes) this.solicit(url, true, 0);
  }

  /** The URL other servers use to reach this one's route listener. */
  private routeUrl(): string {
    if (this.options.advertise) return `nats-route://${this.options.advertise}/`;
    if (!this.boundPort) return '';
    const host = advertisedHosts(this.options.listenHost || '0.0.0.0')[0]!;
    return `nats-route://${host}:${this.boundPort}/`;
  }

  private infoJson(): string {
    const [advertHost, advertPort] = this.options.advertise ? this.options.advertise.split(':') : [];
    const info: Record<string, unknown> = {
      server_id: this.server.serverId,
      server_name: this.server.serverName,
      version: '2.9.0',
      proto: 1,
      host: advertHost ?? (this.options.listenHost || '0.0.0.0'),
      port: advertPort ? Number(advertPort) : this.boundPort,
      headers: true,
      max_payload: this.server.options.maxPayloadBytes,
      cluster: this.clusterName,
      cluster_dynamic: this.dynamicName || undefined,
    };
    if (this.authRequired) info['auth_required'] = true;
    if (this.options.tls !== null) {
      info['tls_required'] = true;
      info['tls_verify'] = this.options.tls.verify;
    }
    if (this.options.advertise) info['ip'] = this.routeUrl();
    if (!this.options.noAdvertise) info['connect_urls'] = this.server.clientUrls();
    return JSON.stringify(info);
  }

  /**
   * The CONNECT of a route we dial: the credentials of its URL (`nats://user:pass@host:port`),
   * else, for a route learned by gossip, this cluster's own (unless its password is a hash).
   */
  private connectJson(url: string): string {
    let user = '';
    let pass = '';
    try {
      const parsed = new URL(url.replace(/^nats-route:/, 'nats:'));
      user = decodeURIComponent(parsed.username);
      pass = decodeURIComponent(parsed.password);
    } catch {
      // An unparsable URL was never dialled.
    }
    if (user === '' && this.authRequired && !isBcrypt(this.options.password)) {
      user = this.options.user;
      pass = this.options.password;
    }
    return JSON.stringify({
      ...(user ? { user, pass } : {}),
      echo: true,
      verbose: false,
      pedantic: false,
      tls_required: this.options.tls !== null,
      name: this.server.serverId,
      headers: true,
      cluster: this.clusterName,
      dynamic: this.dynamicName,
    });
  }

  /** A route socket we accepted: TLS first when configured, then the route protocol. */
  private accept(socket: Socket): void {
    const tls = this.routeTls;
    if (tls === null) {
      this.attach(socket, '');
      return;
    }
    this.handshaking.add(socket);
    socket.on('error', () => undefined);
    tls.accept(socket, (secured, failure) => {
      this.handshaking.delete(socket);
      if (secured !== null && !this.stopped) {
        this.attach(secured, '');
        return;
      }
      secured?.destroy();
      if (!this.stopped) this.logger.warn({ side: 'accepted', remote: `${socket.remoteAddress ?? ''}:${socket.remotePort ?? 0}` }, `TLS route handshake error: ${failure}`);
    });
  }

  /**
   * The client side of a route's TLS handshake, bounded by the tls block's timeout. Node verifies
   * the peer before 'secureConnect' (an untrusted one is an error). On failure the socket is
   * closed and the route is dialled again later.
   */
  private dialTls(raw: Socket, host: string, tls: LoadedTls, then: (secured: Socket) => void, failed: () => void): void {
    const secured = tls.dialSocket(raw, host);
    this.handshaking.add(raw);
    let settled = false;
    const settle = (reason: string | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      this.handshaking.delete(raw);
      secured.removeAllListeners('error');
      secured.removeAllListeners('close');
      if (reason === null && !this.stopped) {
        then(secured);
        return;
      }
      secured.destroy();
      if (!this.stopped) this.logger.warn({ side: 'dialled', remote: `${host}:${raw.remotePort ?? 0}` }, `TLS route handshake error: ${reason ?? 'stopped'}`);
      failed();
    };
    const timer = setTimeout(() => settle('TLS handshake timeout'), tls.settings.timeoutMs);
    timer.unref();
    secured.once('secureConnect', () => settle(null));
    secured.on('error', (error: Error) => settle(error.message));
    secured.once('close', () => settle('connection closed during the handshake'));
  }

  private attach(socket: Socket, solicitedUrl: string): RouteConnection {
    const id = this.server.nextConnectionId();
    const expectsCredentials = solicitedUrl === '' && this.authRequired;
    const route = new RouteConnection(id, socket, solicitedUrl, this, this.server.options, this.logger.child({ rid: id }), expectsCredentials ? this.options.authTimeoutMs : 0);
    this.pending.add(route);
    route.start(this.connectJson(solicitedUrl), this.infoJson());
    return route;
  }

  /** Whether a route's CONNECT carries this cluster's credentials. */
  checkCredentials(user: string, pass: string): boolean | Promise<boolean> {
    if (!sameSecret(user, this.options.user)) return false;
    return this.secrets.check(pass, this.options.password);
  }

  private solicit(url: string, explicit: boolean, attempt: number): void {
    if (this.stopped) return;
    let target: URL;
    try {
      target = new URL(url.replace(/^nats-route:/, 'nats:'));
    } catch {
      this.logger.error({ url: redactUrlCredentials(url) }, 'invalid route URL');
      return;
    }
    const key = `${target.hostname}:${target.port}`;
    if (attempt === 0 && this.dialling.has(key)) return;
    this.dialling.add(key);
    const host = target.hostname.replace(/^\[|\]$/g, '');
    const socket = dial({ host, port: Number(target.port) || 6222 });
    socket.once('connect', () => {
      const tls = this.routeTls;
      if (tls === null) {
        this.attach(socket, url).explicit = explicit;
        return;
      }
      this.dialTls(socket, host, tls, (secured) => {
        this.attach(secured, url).explicit = explicit;
      }, () => this.retry(url, key, explicit, attempt + 1));
    });
    socket.once('error', (error) => {
      if (socket.connecting || !socket.remoteAddress) {
        this.logger.debug({ url: redactUrlCredentials(url), err: error.message }, 'route dial failed');
        this.retry(url, key, explicit, attempt + 1);
      }
    });
  }

  private retry(url: string, key: string, explicit: boolean, attempt: number): void {
    if (this.stopped) return;
    if (!explicit && attempt > this.options.connectRetries) {
      this.dialling.delete(key);
      return;
    }
    // Jitter keeps two servers that dial each other from colliding again and again.
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.solicit(url, explicit, attempt);
    }, reconnectDelayMs + Math.floor(Math.random() * 100));
    timer.unref();
    this.timers.add(timer);
  }

  // ---- RouteHost ----

  onRouteInfo(route: RouteConnection, info: RouteInfo, raw: Record<string, unknown>): void {
    if (route.info) {
      // A later INFO: gossip about another server (implicit route) or an update of this one.
      if (info.serverId !== route.info.serverId) this.onGossip(info);
      else route.info = { ...info, ip: route.info.ip };
      return;
    }
    if (info.serverId === this.server.serverId) {
      route.close('route to self');
      return;
    }
    if (info.cluster && info.cluster !== this.clusterName) {
      if (this.dynamicName && (!info.dynamicCluster || this.clusterName < info.cluster)) {
        this.clusterName = info.cluster;
      } else {
        // Two made-up names: the peer with the smaller one adopts ours and dials again (normal
        // while a mesh forms). Two configured names that differ are a real misconfiguration.
        const bothDynamic = this.dynamicName && info.dynamicCluster;
        const fields = { remote: info.cluster, local: this.clusterName };
        if (bothDynamic) this.logger.debug(fields, 'cluster names differ: closing the route until the peer adopts ours');
        else this.logger.error(fields, 'cluster name conflict, closing route');
        route.close('cluster name conflict');
        return;
      }
    }
    const ip = info.ip || `nats-route://${route.remoteAddress}:${info.port}/`;
    route.info = { ...info, ip };
    this.pending.delete(route);
    if (!this.register(route)) return;
    this.sendAllInterest(route);
    // Tell the other routes about the newcomer, so that each dials it (full mesh by gossip).
    const gossip = JSON.stringify({ ...raw, ip, nonce: undefined });
    for (const other of this.routes.values()) if (other !== route) other.sendInfo(gossip);
    this.logger.info({ remote: info.serverId, name: info.serverName, solicited: route.solicited }, 'route registered');
    this.server.onConnectUrlsChanged();
  }

  /**
   * Keeps one route per remote server. Between two connections to the same server, both sides
   * keep the one dialled by the server with the smaller server_id, so they agree without talking.
   */
  private register(route: RouteConnection): boolean {
    const remoteId = route.info!.serverId;
    const existing = this.routes.get(remoteId);
    if (existing) {
      const dialler = (r: RouteConnection): string => (r.solicited ? this.server.serverId : remoteId);
      const preferNew = dialler(route) < dialler(existing);
      if (!preferNew) {
        route.close('duplicate route');
        return false;
      }
      this.routes.delete(remoteId);
      existing.close('duplicate route');
    }
    this.routes.set(remoteId, route);
    return true;
  }

  private onGossip(info: RouteInfo): void {
    if (info.serverId === this.server.serverId || this.routes.has(info.serverId) || !info.ip) return;
    this.solicit(info.ip, false, 0);
  }

  onRemoteSub(route: RouteConnection, subject: string, queue: string, weight: number): void {
    const key = interestKey(subject, queue);
    const existing = route.remoteSubs.get(key);
    if (existing) {
      existing.weight = weight;
      return;
    }
    const subscription = new RemoteSubscription(route, key, subject, queue);
    subscription.weight = weight;
    route.remoteSubs.set(key, subscription);
    this.server.addRemote(subscription);
  }

  onRemoteUnsub(route: RouteConnection, subject: string, queue: string): void {
    const key = interestKey(subject, queue);
    const existing = route.remoteSubs.get(key);
    if (!existing) return;
    route.remoteSubs.delete(key);
    this.server.removeRemote(existing);
  }

  onRoutedMessage(route: RouteConnection, subject: string, reply: string | undefined, queues: readonly string[] | null, headerBytes: number, payload: Uint8Array): void {
    this.server.routeFromRemote(route, subject, reply, queues, headerBytes, payload);
  }

  onRouteClosed(route: RouteConnection, reason: string): void {
    this.pending.delete(route);
    for (const subscription of route.remoteSubs.values()) this.server.removeRemote(subscription);
    route.remoteSubs.clear();
    const remoteId = route.info?.serverId;
    const wasRegistered = remoteId !== undefined && this.routes.get(remoteId) === route;
    if (wasRegistered) {
      this.routes.delete(remoteId);
      this.logger.info({ remote: remoteId, reason }, 'route closed');
      this.server.onConnectUrlsChanged();
    }
    if (route.solicited && !this.stopped) {
      let key = '';
      try {
        const target = new URL(route.solicitedUrl.replace(/^nats-route:/, 'nats:'));
        key = `${target.hostname}:${target.port}`;
      } catch {
        return;
      }
      const duplicate = reason === 'duplicate route' || reason === 'route to self';
      if (duplicate) {
        this.dialling.delete(key);
        return;
      }
      this.retry(route.solicitedUrl, key, route.explicit, 1);
    }
  }

  scheduleFlush(target: { flush(): void }): void {
    this.server.scheduleFlush(target);
  }

  // ---- local interest ----

  private sendAllInterest(route: RouteConnection): void {
    for (const entry of this.localInterest.values()) route.sendInterest(entry.subject, entry.queue, entry.count);
  }

  /** A local (client or in-process) subscription appeared. */
  localSubscriptionAdded(subscription: Subscription): void {
    const key = interestKey(subscription.subject, subscription.queue);
    let entry = this.localInterest.get(key);
    if (!entry) this.localInterest.set(key, (entry = { subject: subscription.subject, queue: subscription.queue, count: 0 }));
    entry.count++;
    // Plain interest is announced once per subject; a queue's weight on every change.
    if (entry.count === 1 || subscription.queue) {
      for (const route of this.routes.values()) route.sendInterest(entry.subject, entry.queue, entry.count);
    }
  }

  localSubscriptionRemoved(subscription: Subscription): void {
    const key = interestKey(subscription.subject, subscription.queue);
    const entry = this.localInterest.get(key);
    if (!entry) return;
    entry.count--;
    if (entry.count <= 0) {
      this.localInterest.delete(key);
      for (const route of this.routes.values()) route.sendNoInterest(entry.subject, entry.queue);
    } else if (subscription.queue) {
      for (const route of this.routes.values()) route.sendInterest(entry.subject, entry.queue, entry.count);
    }
  }

  /** Client URLs of every other server in the mesh. */
  remoteClientUrls(): string[] {
    const urls: string[] = [];
    for (const route of this.routes.values()) urls.push(...(route.info?.connectUrls ?? []));
    return urls;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const socket of this.handshaking) socket.destroy();
    this.handshaking.clear();
    for (const route of [...this.routes.values(), ...this.pending]) route.close('server shutdown');
    const listener = this.listener;
    this.listener = null;
    if (listener) await new Promise<void>((resolve) => listener.close(() => resolve()));
  }
}
