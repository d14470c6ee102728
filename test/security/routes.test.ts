// Proves routes over mutual TLS with cluster credentials, with certificates made by openssl at run
// time: three tstan servers mesh (the third by gossip, with the cluster's own credentials) and
// carry messages; a server without the credentials, or with a certificate from another CA, is
// refused and never joins; and Debian's nats-server 2.9 meshes with a tstan server over TLS
// routes with route authorization, whichever side dials. Refusals are awaited as the log lines
// that report them, never as time passing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, StringCodec, type NatsConnection } from 'nats';
import { EmbeddedNatsServer } from '../../src/transport/nats/server.js';
import { noRoutes, type RouteOptions } from '../../src/transport/nats/routes.js';
import type { TlsSettings } from '../../src/transport/nats/tls-settings.js';
import { makeCertificates, type TestCertificates } from '../support/certs.js';
import { captureLog, type CapturedLog } from '../support/log-capture.js';
import { until } from '../support/embedded.js';
import { startOracle, type OracleServer } from '../support/nats-server.js';
import { freePort } from '../support/ports.js';
import { skipWithout } from '../support/test-deps.js';
import { serverTls } from './support.js';

const sc = StringCodec();

interface Node {
  readonly server: EmbeddedNatsServer;
  readonly log: CapturedLog;
}

async function startNode(routes: readonly string[], overrides: Partial<RouteOptions>, listenPort = -1): Promise<Node> {
  const log = captureLog('info');
  const server = new EmbeddedNatsServer({ host: '127.0.0.1', port: -1, httpPort: -1 }, log.logger, {
    ...noRoutes,
    listenHost: '127.0.0.1',
    listenPort,
    name: 'secure-mesh',
    routes,
    ...overrides,
  });
  await server.start();
  return { server, log };
}

function logged(node: Node, pattern: RegExp): boolean {
  return node.log.lines.some((line) => pattern.test(String(line['msg'])));
}

async function delivers(from: NatsConnection, to: NatsConnection, subject: string): Promise<void> {
  const sub = to.subscribe(subject, { max: 1 });
  await to.flush();
  // Interest crosses the route asynchronously: publish until the first copy arrives.
  const timer = setInterval(() => from.publish(subject, sc.encode(subject)), 20);
  try {
    for await (const msg of sub) expect(sc.decode(msg.data)).toBe(subject);
  } finally {
    clearInterval(timer);
  }
}

describe.skipIf(skipWithout('openssl'))('routes over mutual TLS with cluster credentials', () => {
  let certs: TestCertificates;
  let tls: TlsSettings;
  const credentials = { user: 'route', password: 'r0ute-secret', authTimeoutMs: 1_000 };
  const nodes: Node[] = [];
  const clients: NatsConnection[] = [];

  beforeAll(async () => {
    certs = makeCertificates();
    tls = serverTls(certs, { verify: true });
    const seed = await startNode([], { tls, ...credentials });
    nodes.push(seed);
    const seedUrl = `nats-route://route:r0ute-secret@127.0.0.1:${seed.server.routes.port}`;
    nodes.push(await startNode([seedUrl], { tls, ...credentials }), await startNode([seedUrl], { tls, ...credentials }));
    await until(() => nodes.every((node) => node.server.routes.routes.size === 2), 15_000, 'a full mesh over TLS');
  });

  afterAll(async () => {
    for (const client of clients) await client.close();
    await Promise.all(nodes.map((node) => node.server.shutdown()));
    certs?.remove();
  });

  it('meshes (the third server through gossip) and carries messages between every pair', async () => {
    for (const node of nodes) clients.push(await connect({ port: node.server.port }));
    await delivers(clients[0]!, clients[1]!, 'mesh.a');
    await delivers(clients[1]!, clients[2]!, 'mesh.b');
    await delivers(clients[2]!, clients[0]!, 'mesh.c');
    const routez = nodes[0]!.server.routes;
    expect([routez.tlsRequired, routez.authRequired]).toEqual([true, true]);
  });

  it('refuses a server that dials without the credentials, and one that presents a wrong password', async () => {
    const target = `127.0.0.1:${nodes[0]!.server.routes.port}`;
    const intruders = [
      await startNode([`nats-route://${target}`], { tls }),
      await startNode([`nats-route://route:guess@${target}`], { tls }),
    ];
    try {
      await until(() => nodes[0]!.log.lines.filter((line) => String(line['msg']) === 'route refused: Authorization Violation').length >= 2, 10_000, 'two refusals');
      for (const intruder of intruders) await until(() => logged(intruder, /route reported an error/), 10_000, 'the intruder told');
      expect(intruders.map((intruder) => intruder.server.routes.routes.size)).toEqual([0, 0]);
      expect(nodes.map((node) => node.server.routes.routes.size)).toEqual([2, 2, 2]);
    } finally {
      await Promise.all(intruders.map((intruder) => intruder.server.shutdown()));
    }
  });

  it('refuses a server whose certificate another CA signed, before any route protocol', async () => {
    const rogue = await startNode([`nats-route://route:r0ute-secret@127.0.0.1:${nodes[0]!.server.routes.port}`], {
      tls: { ...tls, certFile: certs.rogueClientCert, keyFile: certs.rogueClientKey },
      ...credentials,
    });
    try {
      await until(() => logged(nodes[0]!, /^TLS route handshake error: peer certificate not trusted/), 10_000, 'the TLS refusal');
      expect(rogue.server.routes.routes.size).toBe(0);
    } finally {
      await rogue.server.shutdown();
    }
  });
});

describe.skipIf(skipWithout('openssl', 'nats-server'))('a mixed mesh with nats-server 2.9 over TLS routes with route authorization', () => {
  let certs: TestCertificates;

  beforeAll(() => {
    certs = makeCertificates();
  });
  afterAll(() => certs?.remove());

  /** nats-server's conf: TLS and credentials on its cluster port, dialling `routes`. */
  function oracleConf(name: string, routes: readonly string[]): string {
    const path = join(certs.dir, name);
    writeFileSync(path, `cluster {
  name: secure-mesh
  listen: "127.0.0.1:-1"
  authorization { user: route, password: "r0ute-secret", timeout: 2 }
  tls { cert_file: "${certs.serverCert}", key_file: "${certs.serverKey}", ca_file: "${certs.caFile}", verify: true, timeout: 2 }
  routes: [${routes.map((route) => `"${route}"`).join(', ')}]
}
`);
    return path;
  }

  for (const direction of ['tstan dials nats-server', 'nats-server dials tstan'] as const) {
    it(`carries messages both ways when ${direction}`, async () => {
      const tstanClusterPort = await freePort();
      const oracleRoutes = direction === 'nats-server dials tstan' ? [`nats-route://route:r0ute-secret@127.0.0.1:${tstanClusterPort}`] : [];
      const oracle: OracleServer = await startOracle({ args: ['-c', oracleConf(`${direction.split(' ')[0]}.conf`, oracleRoutes)] });
      const routes = direction === 'tstan dials nats-server' ? [`nats-route://route:r0ute-secret@127.0.0.1:${oracle.clusterPort}`] : [];
      const tstan = await startNode(routes, { tls: serverTls(certs, { verify: true }), user: 'route', password: 'r0ute-secret' }, tstanClusterPort);
      const onTstan = await connect({ port: tstan.server.port });
      const onOracle = await connect({ port: oracle.port });
      try {
        await until(() => tstan.server.routes.routes.size === 1, 15_000, 'the route to nats-server');
        await delivers(onTstan, onOracle, 'mixed.to-oracle');
        await delivers(onOracle, onTstan, 'mixed.to-tstan');
      } finally {
        await onTstan.close();
        await onOracle.close();
        await tstan.server.shutdown();
        await oracle.stop();
      }
    });
  }

  it('is refused by nats-server when tstan dials with a wrong password', async () => {
    const oracle = await startOracle({ args: ['-c', oracleConf('refusing.conf', [])] });
    const tstan = await startNode([`nats-route://route:wrong@127.0.0.1:${oracle.clusterPort}`], { tls: serverTls(certs, { verify: true }) });
    try {
      await until(() => tstan.log.lines.some((line) => line['msg'] === 'route reported an error' && /Authorization Violation/.test(String(line['error']))), 10_000, "nats-server's refusal");
      // nats-server closes the connection after its -ERR: the route goes with it (a moment later).
      await until(() => tstan.server.routes.routes.size === 0, 10_000, 'the refused route to close');
    } finally {
      await tstan.server.shutdown();
      await oracle.stop();
    }
  });
});
