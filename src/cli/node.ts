// One tstan node assembled from its parts: the embedded NATS server (or a connector to an external
// deployment with -ns), the store, the STAN server and the monitoring endpoints. Start-up and
// shutdown run in dependency order; a failed start-up undoes what was started.
//
// Start-up time is part of the contract (orchestrators and client test helpers give a spawned
// server about 250 ms): only the embedded NATS server is loaded before the client port listens.
// The streaming layer, the stores, prom-client and the `nats` client behind -ns are
// imported when they are needed, so a client connecting early waits for the streaming server's
// subscriptions the way it would with the reference server.
import type { Logger } from '../util/logger.js';
import { ConfigError } from '../util/errors.js';
import type { Options } from '../config/options.js';
import { EmbeddedNatsServer } from '../transport/nats/server.js';
import { removePortsFile, writePortsFile } from '../transport/nats/ports-file.js';
import type { NatsConnector } from '../transport/nats/connection.js';
import { MonitorHttpServer, RawResponse } from '../monitor/http-server.js';
import type { TlsServerOptions } from '../transport/nats/tls-context.js';
import type { StanServer, StoreOpener } from '../server/server.js';
import type { ClusteredStanServer } from '../cluster/clustered-server.js';
import type { Store, StoreClock, StoreOptions } from '../store/types.js';
import { clusterSettingsOf, encryptionOf, externalNatsOptionsOf, fileStoreOptionsOf, natsServerOptionsOf, stanServerOptionsOf, storeLimitsOf } from './wire-options.js';
import { testHooksFromEnv, type TestHooks } from './test-hooks.js';
import { checkFreeSpace } from '../store/free-space.js';

/**
 * What this build can run, beyond what the configuration layer checks: `tstan -t` and start-up
 * both ask here, so `-t` accepts exactly what start-up accepts. Throws ConfigError. The TLS
 * certificates, keys and CA files are read and parsed here, as nats-server -t does (node:tls is
 * loaded only when TLS is configured).
 */
export async function checkStartable(options: Options): Promise<void> {
  const { tls } = options.nats;
  const routeTls = options.routes.tls;
  if (tls === null && routeTls === null && !usesClientTlsFiles(options)) return;
  const { loadTls } = await import('../transport/nats/tls-context.js');
  if (tls !== null) await loadTls(tls, 'clients');
  if (routeTls !== null) await loadTls(routeTls, 'routes');
  if (usesClientTlsFiles(options)) await checkReadable(options);
}

function usesClientTlsFiles(options: Options): boolean {
  const client = options.streaming.natsClient;
  return options.streaming.natsServerUrl !== '' && (client.certFile !== '' || client.caFile !== '');
}

/** The -ns client's certificate files: the `nats` client reads them itself, at connect. */
async function checkReadable(options: Options): Promise<void> {
  const { access } = await import('node:fs/promises');
  const client = options.streaming.natsClient;
  const files: readonly (readonly [string, string])[] = [
    [client.certFile, '--tls_client_cert'], [client.keyFile, '--tls_client_key'], [client.caFile, '--tls_client_cacert'],
  ];
  for (const [file, name] of files) {
    if (file === '') continue;
    try {
      await access(file);
    } catch {
      throw new ConfigError(`${name}: cannot read "${file}": no such file`);
    }
  }
}

/** The store asked for, wrapped for encryption at rest with -encrypt (MEMORY too, as the reference). */
async function openStore(options: Options, logger: Logger, clock: StoreClock, ageExpiry: 'caller', hooks: TestHooks): Promise<Store> {
  const store = await openPlainStore(options, logger, clock, ageExpiry, hooks);
  const encryption = encryptionOf(options);
  if (encryption === undefined) return store;
  const { EncryptedStore } = await import('../store/crypto/encrypted-store.js');
  return new EncryptedStore(store, encryption);
}

/** The store type asked for; each store names itself in its log lines (`component`). */
async function openPlainStore(options: Options, logger: Logger, clock: StoreClock, ageExpiry: 'caller', hooks: TestHooks): Promise<Store> {
  const storeOptions: StoreOptions = { limits: storeLimitsOf(options), clock, ageExpiry, logger };
  switch (options.streaming.storeType) {
    case 'MEMORY': {
      const { openMemoryStore } = await import('../store/memory/memory-store.js');
      return openMemoryStore(storeOptions);
    }
    case 'FILE': {
      const { openFileStore } = await import('../store/file/file-store.js');
      // A clustered node's store is written without fsync: the Raft log is its write-ahead log,
      // and the store is fsynced before the log drops what it holds. So a damaged record at a
      // file's end is expected after a power loss, and cut: what it held is applied again from
      // the log, or fetched from peers when a snapshot needs it.
      const file = { ...fileStoreOptionsOf(options), ...(options.clustering.clustered ? { sync: false, truncateBadEof: true } : {}) };
      if (hooks.durability === undefined) return openFileStore({ ...storeOptions, dir: options.streaming.dir, file });
      const { NodeFileIo } = await import('../store/file/node-io.js');
      return openFileStore({ ...storeOptions, dir: options.streaming.dir, file, io: new NodeFileIo(hooks.durability) });
    }
    default:
      throw new ConfigError(`store type ${options.streaming.storeType} is not supported yet`);
  }
}

/** The directories a FILE node writes: its data, and a clustered node's Raft log when kept apart. */
function dataPathsOf(options: Options): string[] {
  const paths = [options.streaming.dir];
  if (options.clustering.clustered && options.clustering.logPath !== '') paths.push(options.clustering.logPath);
  return paths;
}

export class TstanNode {
  nats: EmbeddedNatsServer | null = null;
  stan: StanServer | ClusteredStanServer | null = null;
  private store: Store | null = null;
  private ownMonitor: MonitorHttpServer | null = null;
  private ownMonitorPort = 0;
  private portsFile = '';
  private startCancelled = false;
  /** Called when the node can no longer write its state and must stop (the CLI exits non-zero). */
  onFatal: ((error: Error) => void) | undefined;
  /** The chaos harness's hooks (TSTAN_RAFT_TRACE, TSTAN_FSYNC_LOG); none in a normal start. */
  private readonly hooks: TestHooks;

  constructor(
    readonly options: Options,
    private readonly logger: Logger,
  ) {
    this.hooks = testHooksFromEnv(process.env, options.clustering.nodeId);
  }

  /** The client port of the embedded server (0 with -ns). */
  get natsPort(): number {
    return this.nats?.port ?? 0;
  }

  get httpPort(): number {
    return this.nats?.httpPort ?? this.ownMonitorPort;
  }

  async start(): Promise<void> {
    await checkStartable(this.options);
    // Before anything listens: a node whose disk is full refuses at once (src/store/free-space.ts).
    if (this.options.streaming.storeType === 'FILE') checkFreeSpace(dataPathsOf(this.options));
    try {
      const connector = await this.startTransport();
      await this.checkChannelPermissions();
      this.mountReadiness();
      const opener: StoreOpener = async ({ clock, ageExpiry }) => (this.store = await openStore(this.options, this.logger, clock, ageExpiry, this.hooks));
      const logger = this.logger;
      let stan: StanServer | ClusteredStanServer;
      if (this.options.clustering.clustered) {
        const { ClusteredStanServer } = await import('../cluster/clustered-server.js');
        const hooks = this.hooks;
        const settings = { ...clusterSettingsOf(this.options), ...(hooks.raftTrace !== undefined ? { raftTrace: hooks.raftTrace } : {}), ...(hooks.durability !== undefined ? { durability: hooks.durability } : {}) };
        stan = new ClusteredStanServer(connector, opener, stanServerOptionsOf(this.options), settings, logger);
        if (this.startCancelled) stan.cancelStart();
      } else {
        const { StanServer } = await import('../server/server.js');
        stan = new StanServer(connector, opener, stanServerOptionsOf(this.options), logger);
      }
      this.stan = stan;
      stan.onFatal((error) => this.onFatal?.(error));
      await stan.start();
      await this.mountStreamingMonitor(stan);
      this.announcePorts();
    } catch (error) {
      await this.shutdown();
      throw error;
    }
  }

  /** /streaming/* and /metrics on the node's monitoring port; prom-client is loaded only then. */
  private async mountStreamingMonitor(stan: StanServer | ClusteredStanServer): Promise<void> {
    if (this.httpPort === 0) return;
    const monitor = this.nats?.monitor ?? this.ownMonitor;
    if (!monitor) return;
    const [{ streamingHandlers }, { StreamingMetrics }] = await Promise.all([
      import('../monitor/streaming/handlers.js'),
      import('../monitor/metrics.js'),
    ]);
    for (const [path, handler] of streamingHandlers(stan.monitorView())) monitor.route(path, handler);
    if ('raft' in stan) {
      const { clusterHandlers } = await import('../cluster/monitor.js');
      for (const [path, handler] of clusterHandlers(stan)) monitor.route(path, handler);
    }
    const metrics = new StreamingMetrics();
    stan.attachMetrics(metrics);
    monitor.route('/metrics', metrics.handler());
  }

  /**
   * Users with permissions: their STAN subscription requests are checked against the channels
   * they may subscribe to, and their refused requests answered with the response's error, on this node
   * (src/server/channel-permissions.ts), before anything reaches a leader.
   */
  private async checkChannelPermissions(): Promise<void> {
    const nats = this.nats;
    if (nats === null || !this.options.nats.users.some((entry) => entry.permissions !== null)) return;
    const [{ refusedRequestAnswer, subscribePermissionCheck }, { stanSubjects }] = await Promise.all([
      import('../server/channel-permissions.js'),
      import('../server/subjects.js'),
    ]);
    const subjects = stanSubjects(this.options.streaming.clusterId, this.options.streaming.discoverPrefix);
    const answer = nats.connectLocal(`_NSS-${this.options.streaming.clusterId}-permissions`);
    nats.addPublishCheck(subjects.subRequests, subscribePermissionCheck(subjects, answer));
    nats.answerRefusedPublishes(refusedRequestAnswer(subjects, answer));
  }

  /** /readyz answers 503 from the moment monitoring listens until the streaming server serves. */
  private mountReadiness(): void {
    const monitor = this.nats?.monitor ?? this.ownMonitor;
    monitor?.route('/readyz', () => {
      // A cluster node is ready once it knows a leader and has applied what it heard committed.
      const stan = this.stan;
      const ready = stan !== null && ('raft' in stan ? stan.isReady() : stan.isRunning);
      if (ready) return { status: 'ok' };
      return new RawResponse('application/json', JSON.stringify({ status: 'unavailable' }), 503);
    });
  }

  /** The ports file is written once the whole node serves, so its presence means "ready". */
  private announcePorts(): void {
    const nats = this.options.nats;
    if (!nats.portsFileDir) return;
    this.portsFile = writePortsFile(nats.portsFileDir, {
      host: nats.host,
      port: this.natsPort,
      httpHost: nats.httpHost || nats.host,
      httpPort: this.httpPort,
      clusterHost: this.options.routes.listenHost || '0.0.0.0',
      clusterPort: this.nats?.routes.port ?? 0,
      tls: this.nats !== null && this.nats.tlsRequired,
      https: nats.httpsPort !== 0,
      clusterTls: this.options.routes.tls !== null,
    });
  }

  private async startTransport(): Promise<NatsConnector> {
    if (this.options.streaming.natsServerUrl === '') {
      const natsOptions = { ...natsServerOptionsOf(this.options), portsFileDir: '' };
      this.nats = new EmbeddedNatsServer(natsOptions, this.logger, this.options.routes);
      await this.nats.start();
      return this.nats.connector();
    }
    // With -ns the NATS server is someone else's; monitoring, if asked for, is served by us
    // (over HTTPS with -ms, with the certificate of the tls block or the --tls* flags).
    const nats = this.options.nats;
    const port = nats.httpsPort !== 0 ? nats.httpsPort : nats.httpPort;
    if (port !== 0) {
      this.ownMonitor = new MonitorHttpServer(this.logger.child({ component: 'monitor' }));
      this.ownMonitor.route('/healthz', () => ({ status: this.stan?.isRunning ? 'ok' : 'unavailable' }));
      let tls: TlsServerOptions | undefined;
      if (nats.httpsPort !== 0 && nats.tls !== null) {
        const { loadTls } = await import('../transport/nats/tls-context.js');
        tls = (await loadTls(nats.tls, 'HTTPS monitoring')).serverOptions;
      }
      this.ownMonitorPort = await this.ownMonitor.listen(nats.httpHost || nats.host, port === -1 ? 0 : port, tls);
    }
    const { ExternalNatsConnector } = await import('../transport/nats/external-connection.js');
    return new ExternalNatsConnector(externalNatsOptionsOf(this.options));
  }

  /**
   * Applies what can change at run time (channel limits) from a reloaded configuration. Throws
   * ConfigError when the new limits are invalid; the old ones then stay in force.
   */
  applyLimits(next: Options): void {
    const limits = storeLimitsOf(next);
    this.store?.setLimits(limits);
  }

  /** A stop was asked for while starting: a clustered node stops waiting for its peers. */
  cancelStart(): void {
    this.startCancelled = true;
    const stan = this.stan;
    if (stan !== null && 'raft' in stan) stan.cancelStart();
  }

  /** Stops accepting, answers what is in flight, closes the store, then the transport. */
  async shutdown(): Promise<void> {
    removePortsFile(this.portsFile);
    this.portsFile = '';
    const stan = this.stan;
    this.stan = null;
    if (stan) await stan.shutdown();
    else if (this.store) await this.store.close();
    this.store = null;
    const nats = this.nats;
    this.nats = null;
    if (nats) await nats.shutdown();
    const monitor = this.ownMonitor;
    this.ownMonitor = null;
    if (monitor) await monitor.close();
    this.hooks.close();
  }
}
