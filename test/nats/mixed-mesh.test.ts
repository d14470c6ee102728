// Proves a tstan node and Debian's nats-server form one mesh, whichever side dials: clients on
// either kind exchange messages, queue groups and requests both ways, subscriptions made before
// and after the route forms are honoured, and nothing is duplicated.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, StringCodec, type NatsConnection } from 'nats';
import type { EmbeddedNatsServer } from '../../src/transport/nats/server.js';
import { startOracle, type OracleServer } from '../support/nats-server.js';
import { startRouted } from '../support/mesh.js';
import { freePort } from '../support/ports.js';
import { until } from '../support/embedded.js';
import { skipWithout } from '../support/test-deps.js';

const sc = StringCodec();

/** Waits until nats-server has heard the tstan node's interest in `subject` over the route. */
async function oracleKnows(oracle: OracleServer, subject: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const response = await fetch(`http://127.0.0.1:${oracle.httpPort}/routez?subs=1`);
    const body = (await response.json()) as { routes?: { subscriptions_list?: string[] }[] };
    if ((body.routes ?? []).some((r) => (r.subscriptions_list ?? []).some((s) => s === subject || s.startsWith(`${subject} `)))) return;
    if (Date.now() > deadline) throw new Error(`nats-server never learned interest in ${subject}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function received(sub: { getReceived(): number }, count: number): Promise<void> {
  await until(() => sub.getReceived() >= count, 10_000, `${count} messages`);
}

for (const direction of ['tstan dials nats-server', 'nats-server dials tstan'] as const) {
  describe.skipIf(skipWithout('nats-server'))(`mixed mesh: ${direction}`, () => {
    let oracle: OracleServer;
    let tstan: EmbeddedNatsServer;
    let onTstan: NatsConnection;
    let onOracle: NatsConnection;
    let earlySub: ReturnType<NatsConnection['subscribe']>;

    beforeAll(async () => {
      const tstanClusterPort = await freePort();
      const oracleArgs = ['--cluster_name', 'mesh'];
      if (direction === 'nats-server dials tstan') oracleArgs.push('--routes', `nats-route://127.0.0.1:${tstanClusterPort}`);
      oracle = await startOracle({ cluster: true, args: oracleArgs });
      // A subscription made on nats-server before any route exists.
      onOracle = await connect({ port: oracle.port });
      earlySub = onOracle.subscribe('early.subject');
      await onOracle.flush();
      const routes = direction === 'tstan dials nats-server' ? [`nats-route://127.0.0.1:${oracle.clusterPort}`] : [];
      tstan = await startRouted(tstanClusterPort, routes);
      await until(() => tstan.routes.routes.size === 1, 15_000, 'route to nats-server');
      onTstan = await connect({ port: tstan.port });
    });

    afterAll(async () => {
      await onTstan?.close();
      await onOracle?.close();
      await tstan?.shutdown();
      await oracle?.stop();
    });

    it('honours a subscription made before the route formed', async () => {
      await until(() => tstan.hasInterest('early.subject'));
      onTstan.publish('early.subject', sc.encode('to early'));
      await onTstan.flush();
      await received(earlySub, 1);
      expect(earlySub.getReceived()).toBe(1);
    });

    it('carries messages from tstan clients to nats-server clients and back', async () => {
      const atOracle = onOracle.subscribe('both.ways.in');
      await onOracle.flush();
      await until(() => tstan.hasInterest('both.ways.in'));
      const atTstan = onTstan.subscribe('both.ways.out');
      await onTstan.flush();
      await oracleKnows(oracle, 'both.ways.out');
      for (let i = 0; i < 20; i++) {
        onTstan.publish('both.ways.in', sc.encode(`in${i}`));
        onOracle.publish('both.ways.out', sc.encode(`out${i}`));
      }
      await onTstan.flush();
      await onOracle.flush();
      await received(atOracle, 20);
      await received(atTstan, 20);
      await onOracle.flush();
      await onTstan.flush();
      expect(atOracle.getReceived()).toBe(20);
      expect(atTstan.getReceived()).toBe(20);
      atOracle.unsubscribe();
      atTstan.unsubscribe();
    });

    it('delivers each message once to a queue group with members on both servers', async () => {
      const memberT = onTstan.subscribe('mixed.jobs', { queue: 'q' });
      const memberO = onOracle.subscribe('mixed.jobs', { queue: 'q' });
      await onTstan.flush();
      await onOracle.flush();
      await until(() => tstan.sublist.match('mixed.jobs').queues[0]?.length === 2);
      await oracleKnows(oracle, 'mixed.jobs');
      const total = 400;
      for (let i = 0; i < total; i++) (i % 2 ? onTstan : onOracle).publish('mixed.jobs', sc.encode(String(i)));
      await onTstan.flush();
      await onOracle.flush();
      await until(() => memberT.getReceived() + memberO.getReceived() >= total, 10_000);
      await onTstan.flush();
      await onOracle.flush();
      expect(memberT.getReceived() + memberO.getReceived()).toBe(total);
      expect(memberT.getReceived()).toBeGreaterThan(0);
      expect(memberO.getReceived()).toBeGreaterThan(0);
      memberT.unsubscribe();
      memberO.unsubscribe();
    });

    it('answers requests both ways and reports no responders', async () => {
      const svcO = onOracle.subscribe('svc.oracle');
      (async () => {
        for await (const msg of svcO) msg.respond(sc.encode('from nats-server'));
      })();
      const svcT = onTstan.subscribe('svc.tstan');
      (async () => {
        for await (const msg of svcT) msg.respond(sc.encode('from tstan'));
      })();
      await onOracle.flush();
      await onTstan.flush();
      await until(() => tstan.hasInterest('svc.oracle'));
      await oracleKnows(oracle, 'svc.tstan');
      expect(sc.decode((await onTstan.request('svc.oracle', sc.encode('q'), { timeout: 5000 })).data)).toBe('from nats-server');
      expect(sc.decode((await onOracle.request('svc.tstan', sc.encode('q'), { timeout: 5000 })).data)).toBe('from tstan');
      await expect(onTstan.request('svc.none', sc.encode('q'), { timeout: 5000 })).rejects.toMatchObject({ code: '503' });
      svcO.unsubscribe();
      svcT.unsubscribe();
    });
  });
}

describe.skipIf(skipWithout('nats-server'))('route credentials', () => {
  it('dials a nats-server that requires route authorization with the credentials of the route URL', async () => {
    const oracle = await startOracle({ args: ['--cluster_name', 'mesh', '--cluster', 'nats://ru:rp@127.0.0.1:-1'] });
    const tstanClusterPort = await freePort();
    const wrong = await startRouted(tstanClusterPort, [`nats-route://ru:nope@127.0.0.1:${oracle.clusterPort}`]);
    const right = await startRouted(await freePort(), [`nats-route://ru:rp@127.0.0.1:${oracle.clusterPort}`]);
    try {
      // nats-server registers a route only once its CONNECT passed authorization.
      const remoteIds = async (): Promise<string[]> => {
        const body = (await (await fetch(`http://127.0.0.1:${oracle.httpPort}/routez`)).json()) as { routes?: { remote_id: string }[] };
        return (body.routes ?? []).map((r) => r.remote_id);
      };
      const deadline = Date.now() + 15_000;
      while (!(await remoteIds()).includes(right.serverId)) {
        if (Date.now() > deadline) throw new Error('authorized route never registered');
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(await remoteIds()).toEqual([right.serverId]);
    } finally {
      await wrong.shutdown();
      await right.shutdown();
      await oracle.stop();
    }
  });
});
