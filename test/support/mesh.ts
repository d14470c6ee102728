// Builds meshes of embedded tstan NATS servers (and Debian nats-server peers) for route tests.
import { EmbeddedNatsServer } from '../../src/transport/nats/server.js';
import { noRoutes, type RouteOptions } from '../../src/transport/nats/routes.js';
import type { NatsServerOptions } from '../../src/transport/nats/options.js';
import { silentLogger } from '../../src/util/logger.js';
import { until } from './embedded.js';

export interface MeshNode {
  server: EmbeddedNatsServer;
  readonly clusterPort: number;
  readonly port: number;
  readonly routes: readonly string[];
}

export async function startRouted(
  clusterPort: number,
  routes: readonly string[],
  options: Partial<NatsServerOptions> = {},
  routeOptions: Partial<RouteOptions> = {},
): Promise<EmbeddedNatsServer> {
  const server = new EmbeddedNatsServer({ host: '127.0.0.1', port: options.port ?? -1, ...options }, silentLogger(), {
    ...noRoutes,
    listenHost: '127.0.0.1',
    listenPort: clusterPort,
    name: 'mesh',
    routes,
    ...routeOptions,
  });
  await server.start();
  return server;
}

/**
 * Three servers: B and C dial A; C learns B through A's gossip. Each route listener binds a port
 * the kernel picks (-1), so that no other test can take it between choosing and binding.
 */
export async function startMesh(size = 3, options: Partial<NatsServerOptions> = {}): Promise<MeshNode[]> {
  const nodes: MeshNode[] = [];
  let seed = '';
  for (let i = 0; i < size; i++) {
    const routes = i === 0 ? [] : [seed];
    const server = await startRouted(-1, routes, options);
    if (i === 0) seed = `nats-route://127.0.0.1:${server.routes.port}`;
    nodes.push({ server, clusterPort: server.routes.port, port: server.port, routes });
  }
  await until(() => nodes.every((n) => n.server.routes.routes.size === size - 1), 15_000, 'full mesh');
  return nodes;
}

export async function stopMesh(nodes: MeshNode[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.server.shutdown()));
}
