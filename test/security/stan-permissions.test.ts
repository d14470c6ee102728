// Proves the channel permissions example of docs/security.md §6, taken from the page as it is
// (plus an unrestricted observer), on a spawned tstan with node-nats-streaming clients: the
// order-taker publishes to orders.* and nowhere else, the shipper reads orders.* and nothing else,
// every refusal comes back at once as the STAN response's error (no client waits for a timeout),
// and both keep answering the server's heartbeats and acknowledging what they receive under
// these permissions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { repoRoot, startTstan, type TstanProcess } from '../support/tstan-process.js';
import { until } from '../support/embedded.js';
import { closeClient, dataOf, publish, stan, subscribe, type StanClient, type StanMessage } from '../stan/harness.js';

/** The conf of docs/security.md's example, between its markers. */
function documentedExample(): string {
  const page = readFileSync(join(repoRoot, 'docs', 'security.md'), 'utf8');
  const section = page.slice(page.indexOf('<!-- security-example:begin -->'), page.indexOf('<!-- security-example:end -->'));
  const fenced = /```\n([\s\S]*?)```/.exec(section);
  if (fenced === null) throw new Error('docs/security.md has no example between its markers');
  return fenced[1]!;
}

function stanConnect(port: number, clientId: string, user: string, pass: string): Promise<StanClient> {
  const client = stan.connect('shop', clientId, { url: `nats://127.0.0.1:${port}`, user, pass, maxReconnectAttempts: 0 });
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', (error: Error | string) => reject(typeof error === 'string' ? new Error(error) : error));
  });
}

interface Clientz {
  clients?: { id: string; hb_inbox: string }[];
}

describe('channel permissions for STAN users (the example of docs/security.md)', () => {
  let scratch: string;
  let node: TstanProcess;
  let taker: StanClient;
  let shipper: StanClient;
  let observer: NatsConnection;

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'tstan-channels-'));
    const conf = join(scratch, 'shop.conf');
    // An observer allowed everything watches the heartbeats; the example is otherwise untouched.
    writeFileSync(conf, documentedExample().replace('users: [', 'users: [\n    { user: observer, password: observer-secret }'));
    node = await startTstan(['-c', conf, '-hbi', '200ms', '-hbt', '2s', '-hbf', '5']);
    taker = await stanConnect(node.port, 'taker-1', 'order-taker', 'order-taker-secret');
    shipper = await stanConnect(node.port, 'shipper-1', 'shipper', 'shipper-secret');
    observer = await connect({ port: node.port, user: 'observer', pass: 'observer-secret' });
  });

  afterAll(async () => {
    if (taker) await closeClient(taker);
    if (shipper) await closeClient(shipper);
    await observer?.close();
    expect(await node?.stop()).toBe(0);
    rmSync(scratch, { recursive: true, force: true });
  });

  it('lets the order-taker publish to orders.* and answers any other publish with a PubAck error', async () => {
    await expect(publish(taker, 'orders.new', 'o1')).resolves.toMatch(/./);
    await expect(publish(taker, 'payroll', 'p1')).rejects.toThrow('Permissions Violation for Publish to "_STAN.pub.shop.payroll"');
    await expect(publish(taker, 'orders.eu.new', 'o2')).rejects.toThrow('Permissions Violation for Publish to "_STAN.pub.shop.orders.eu.new"');
  });

  it('lets the shipper read orders.* and refuses its subscription to any other channel at once', async () => {
    // The backlog may come in the same read as the server's answer: collect from the start.
    const received: StanMessage[] = [];
    const sub = await subscribe(shipper, 'orders.new', shipper.subscriptionOptions().setDeliverAllAvailable(), undefined, (msg) => received.push(msg));
    await until(() => received.length >= 1, 5_000, 'o1');
    expect(dataOf(received)).toEqual(['o1']);
    let pendingOfShipper = -1;
    const poll = setInterval(() => {
      void fetch(`http://127.0.0.1:${node.httpPort}/streaming/channelsz?channel=orders.new&subs=1`)
        .then(async (response) => (await response.json()) as { subscriptions?: { client_id: string; pending_count: number }[] })
        .then((body) => {
          pendingOfShipper = body.subscriptions?.find((entry) => entry.client_id === 'shipper-1')?.pending_count ?? -1;
        });
    }, 20);
    await expect(subscribe(shipper, 'payroll', shipper.subscriptionOptions())).rejects.toThrow('stan: permissions violation for subscription to channel "payroll"');
    await expect(subscribe(shipper, 'orders.eu.new', shipper.subscriptionOptions())).rejects.toThrow('stan: permissions violation for subscription to channel "orders.eu.new"');
    // Its ack of o1 reaches the server: it may publish to the ack inbox.
    await until(() => pendingOfShipper === 0, 10_000, 'the ack of o1').finally(() => clearInterval(poll));
    sub.unsubscribe();
  });

  it('keeps the shipper from publishing and the order-taker from subscribing', async () => {
    await expect(publish(shipper, 'orders.new', 'forged')).rejects.toThrow('Permissions Violation for Publish to "_STAN.pub.shop.orders.new"');
    await expect(subscribe(taker, 'orders.new', taker.subscriptionOptions())).rejects.toThrow('Permissions Violation for Publish to "_STAN.sub.shop"');
  });

  it('lets both answer the server heartbeats (allow_responses, _INBOX.>) and stay registered', async () => {
    const clientz = (await (await fetch(`http://127.0.0.1:${node.httpPort}/streaming/clientsz`)).json()) as Clientz;
    const inboxes = new Map((clientz.clients ?? []).map((client) => [client.hb_inbox, client.id]));
    expect([...inboxes.values()].sort()).toEqual(['shipper-1', 'taker-1']);
    const replyTo = new Map<string, string>();
    const answers = new Map<string, number>([['shipper-1', 0], ['taker-1', 0]]);
    observer.subscribe('>', {
      callback: (_error, msg) => {
        const client = inboxes.get(msg.subject);
        if (client !== undefined && msg.reply) replyTo.set(msg.reply, client);
        const answered = replyTo.get(msg.subject);
        if (answered !== undefined) answers.set(answered, (answers.get(answered) ?? 0) + 1);
      },
    });
    await until(() => [...answers.values()].every((count) => count >= 2), 10_000, 'two heartbeat answers from each client');
    const after = (await (await fetch(`http://127.0.0.1:${node.httpPort}/streaming/clientsz`)).json()) as Clientz;
    expect((after.clients ?? []).map((client) => client.id).sort()).toEqual(['shipper-1', 'taker-1']);
  });
});
