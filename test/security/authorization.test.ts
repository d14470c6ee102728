// Proves the `authorization {}` block against Debian's nats-server 2.9 as the oracle: one conf
// file (users with a bcrypt or a plain password, default permissions, allow/deny lists with
// wildcards, allow_responses, no_auth_user) runs on a spawned tstan and on nats-server, the same
// protocol lines go to both over raw sockets, and both answer the same lines: +OK or
// 'Authorization Violation', nats-server's 'Permissions Violation for ...' texts, what each
// subscriber receives. Then what only tstan has: the nodes' internal subjects stay closed to a
// user allowed everything, and `foo.*` does not allow subscribing to `foo.>`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { RawClient } from '../support/raw-client.js';
import { startOracle, type OracleServer } from '../support/nats-server.js';
import { startTstan, type TstanProcess } from '../support/tstan-process.js';
import { skipWithout } from '../support/test-deps.js';

/** One connection whose every step ends with PING/PONG, so that what it got is complete. */
class Session {
  private seen = 0;
  private constructor(private readonly raw: RawClient) {}

  static async open(port: number, credentials: Record<string, string>): Promise<Session> {
    const raw = await RawClient.open(port);
    const session = new Session(raw);
    session.seen = raw.received.length;
    raw.send(`CONNECT ${JSON.stringify({ verbose: true, pedantic: false, protocol: 1, ...credentials })}\r\n`);
    return session;
  }

  /** Sends `lines`, then PING; resolves with what came back before the PONG (or the close). */
  async step(lines: string): Promise<string> {
    this.raw.send(`${lines}PING\r\n`);
    await this.raw.waitFor(/PONG\r\n|-ERR 'Authorization Violation'\r\n/, 10_000).catch(() => undefined);
    if (/-ERR 'Authorization Violation'/.test(this.raw.received.slice(this.seen))) await this.raw.waitClosed();
    const text = this.raw.received.slice(this.seen);
    this.seen = this.raw.received.length;
    this.raw.received = this.raw.received.replace(/PONG\r\n/, 'pong\r\n');
    return text.replace(/PONG\r\n$/, '');
  }

  get closed(): boolean {
    return this.raw.closed;
  }

  close(): void {
    this.raw.close();
  }
}

/** What one server answers to the script; the same script runs on tstan and on nats-server. */
async function script(port: number): Promise<string[]> {
  const out: string[] = [];
  const note = (label: string, text: string): void => {
    out.push(`${label}: ${text.replace(/\r\n/g, '|')}`);
  };
  // Wrong passwords, an unknown user, a token where users are configured.
  for (const credentials of [{ user: 'writer', pass: 'nope' }, { user: 'admin', pass: 'writerpw' }, { user: 'ghost', pass: 'x' }, { auth_token: 'writerpw' }]) {
    const bad = await Session.open(port, credentials);
    note(`connect ${JSON.stringify(credentials)}`, await bad.step(''));
    bad.close();
  }
  const admin = await Session.open(port, { user: 'admin', pass: 'adminpw' });
  note('admin connect (bcrypt)', await admin.step(''));
  const writer = await Session.open(port, { user: 'writer', pass: 'writerpw' });
  note('writer connect', await writer.step(''));
  const reader = await Session.open(port, { user: 'reader', pass: 'readerpw' });
  note('reader connect', await reader.step(''));
  const guest = await Session.open(port, {});
  note('anonymous connect (no_auth_user guest)', await guest.step(''));
  const responder = await Session.open(port, { user: 'responder', pass: 'responderpw' });
  note('responder connect', await responder.step(''));

  note('reader subscribes within its allow list', await reader.step('SUB orders.* 1\r\nSUB audit.> 2\r\nSUB audit.x workers 3\r\n'));
  note('reader subscribes to a denied subject', await reader.step('SUB orders.secret 4\r\n'));
  note('reader subscribes outside its allow list', await reader.step('SUB payroll.> 5\r\nSUB payroll.x q 6\r\n'));
  note('writer publishes where allowed', await writer.step('PUB orders.new 5\r\nhello\r\n'));
  note('writer publishes to a denied subject', await writer.step('PUB orders.secret 6\r\nsecret\r\n'));
  note('writer publishes outside its allow list', await writer.step('PUB payroll.x 1\r\nx\r\n'));
  note('writer subscribes outside its allow list', await writer.step('SUB orders.> 9\r\n'));
  note('admin publishes a denied subject of the reader', await admin.step('PUB orders.secret 3\r\nabc\r\nPUB orders.other 3\r\ndef\r\n'));
  note('reader received (orders.* minus orders.secret)', await reader.step(''));
  note('guest publishes (default permissions)', await guest.step('PUB public.news 2\r\nhi\r\nPUB private.x 2\r\nhi\r\n'));
  note('guest subscribes (default permissions)', await guest.step('SUB public.> 1\r\nSUB private.> 2\r\n'));
  note('responder subscribes to its service', await responder.step('SUB svc.echo 1\r\n'));
  note('admin subscribes to its inbox and asks', await admin.step('SUB _INBOX.admin.* 7\r\nPUB svc.echo _INBOX.admin.r1 4\r\nping\r\n'));
  note('responder got the request', await responder.step(''));
  note('responder answers once, then twice, then elsewhere', await responder.step('PUB _INBOX.admin.r1 4\r\npong\r\nPUB _INBOX.admin.r1 5\r\nagain\r\nPUB svc.other 1\r\nx\r\n'));
  note('admin got one answer', await admin.step(''));
  for (const session of [admin, writer, reader, guest, responder]) session.close();
  // Lines differ only by server-chosen sids of nobody; nothing else is normalised.
  return out;
}

function configuration(adminHash: string): string {
  return `
no_auth_user: guest
authorization {
  default_permissions: { publish: "public.>", subscribe: "public.>" }
  users: [
    { user: admin, password: "${adminHash}", permissions: { publish: ">", subscribe: ">" } }
    { user: writer, password: writerpw, permissions: { publish: { allow: ["orders.>"], deny: ["orders.secret"] }, subscribe: "_INBOX.>" } }
    { user: reader, password: readerpw, permissions: { subscribe: { allow: ["orders.*", "audit.>"], deny: "orders.secret" }, publish: "_INBOX.>" } }
    { user: guest, password: guestpw }
    { user: responder, password: responderpw, permissions: { subscribe: "svc.>", allow_responses: true } }
  ]
}
`;
}

describe.skipIf(skipWithout('nats-server'))('authorization, against nats-server 2.9', () => {
  let scratch: string;
  let conf: string;
  let tstan: TstanProcess;
  let oracle: OracleServer;

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'tstan-authz-'));
    conf = join(scratch, 'authz.conf');
    // Go reads the $2a$ prefix; bcryptjs writes $2b$ for the same algorithm.
    writeFileSync(conf, configuration(bcrypt.hashSync('adminpw', 4).replace(/^\$2b\$/, '$2a$')));
    [tstan, oracle] = await Promise.all([startTstan(['-c', conf]), startOracle({ args: ['-c', conf] })]);
  });

  afterAll(async () => {
    await tstan?.stop();
    await oracle?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('answers the same script with the same lines', async () => {
    const ours = await script(tstan.port);
    const theirs = await script(oracle.port);
    expect(ours).toEqual(theirs);
    // The script tested something: refusals and violations are among the lines.
    expect(ours.filter((line) => line.includes("'Authorization Violation'"))).toHaveLength(4);
    expect(ours.join('\n')).toContain(`-ERR 'Permissions Violation for Publish to "orders.secret"'`);
    expect(ours.join('\n')).toContain(`-ERR 'Permissions Violation for Subscription to "payroll.x" using queue "q"'`);
    expect(ours.join('\n')).toMatch(/reader received[^\n]*MSG orders\.other 1 3\|def\|$/m);
  });

  it('keeps the nodes\' internal subjects closed to a user allowed everything', async () => {
    const admin = await Session.open(tstan.port, { user: 'admin', pass: 'adminpw' });
    await admin.step('');
    expect(await admin.step('PUB _STAN.raft.test-cluster.n1 1\r\nx\r\n')).toBe(`-ERR 'Permissions Violation for Publish to "_STAN.raft.test-cluster.n1"'\r\n`);
    expect(await admin.step('SUB _STAN.fetch.> 1\r\n')).toBe(`-ERR 'Permissions Violation for Subscription to "_STAN.fetch.>"'\r\n`);
    admin.close();
  });

  it('does not let `orders.*` in an allow list cover a subscription to `orders.>`', async () => {
    const reader = await Session.open(tstan.port, { user: 'reader', pass: 'readerpw' });
    await reader.step('');
    expect(await reader.step('SUB orders.> 1\r\n')).toBe(`-ERR 'Permissions Violation for Subscription to "orders.>"'\r\n`);
    reader.close();
  });
});
