// Proves that no secret leaves tstan: a node with bcrypt and plain users, route credentials in its
// cluster block and in its route URLs, and a TLS key, run at -DV (every log line on), is sent
// right and wrong passwords, reloaded with a changed password (which, like every user change, waits for a restart), and asked for /varz, /connz and
// /routez; none of the passwords, the hash, the key or the guesses appear in its output or those
// answers. `-t` and start-up errors about options that hold secrets name the option, not the
// secret. Spawned tstan on free ports; certificates made by openssl at run time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'nats';
import bcrypt from 'bcryptjs';
import { runTstan, startTstan, type TstanProcess } from '../support/tstan-process.js';
import { makeCertificates, type TestCertificates } from '../support/certs.js';
import { skipWithout } from '../support/test-deps.js';
import { until } from '../support/embedded.js';

const alicePassword = 'Alice-pw-1ae9';
const aliceHash = bcrypt.hashSync(alicePassword, 4);
const bobPassword = 'Bob-pw-2f3c';
const bobNewPassword = 'Bob-pw-new-77d1';
const routePassword = 'Route-pw-3b0a';
const dialPassword = 'Dial-pw-4c41';
const guess = 'Wrong-guess-5e52';

/** The key's base64 body, a line of which must never be printed. */
function keyLines(certs: TestCertificates): string[] {
  return readFileSync(certs.serverKey, 'utf8').split('\n').filter((line) => line.length > 20 && !line.startsWith('-----'));
}

function conf(certs: TestCertificates, bob: string): string {
  return `
tls { cert_file: "${certs.serverCert}", key_file: "${certs.serverKey}" }
authorization {
  users: [
    { user: alice, password: "${aliceHash}" }
    { user: bob, password: "${bob}" }
  ]
}
cluster {
  listen: 127.0.0.1:-1
  authorization { user: route, password: "${routePassword}", timeout: 1 }
  routes: [ "nats-route://dialer:${dialPassword}@127.0.0.1:1" ]
}
`;
}

async function get(port: number, path: string): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  expect(response.status).toBe(200);
  return response.text();
}

describe.skipIf(skipWithout('openssl'))('secrets stay out of logs, monitoring, -t and errors', () => {
  let certs: TestCertificates;
  let node: TstanProcess;
  let confFile: string;
  const secrets = (): string[] => [alicePassword, aliceHash, bobPassword, bobNewPassword, routePassword, dialPassword, guess, ...keyLines(certs)];

  beforeAll(async () => {
    certs = makeCertificates();
    confFile = join(certs.dir, 'secrets.conf');
    writeFileSync(confFile, conf(certs, bobPassword));
    node = await startTstan(['-cid', 'secrets', '-c', confFile, '-SDV']);
  });
  afterAll(async () => {
    if (node) expect(await node.stop()).toBe(0);
    certs?.remove();
  });

  it('prints no secret while clients log in, fail to, and the configuration is reloaded', async () => {
    const tls = { caFile: certs.caFile };
    const alice = await connect({ port: node.port, user: 'alice', pass: alicePassword, tls });
    await alice.flush();
    await expect(connect({ port: node.port, user: 'bob', pass: guess, tls, maxReconnectAttempts: 0 })).rejects.toThrow(/Authorization Violation/i);
    await expect(connect({ port: node.port, user: 'alice', pass: bobPassword, tls, maxReconnectAttempts: 0 })).rejects.toThrow(/Authorization Violation/i);
    writeFileSync(confFile, conf(certs, bobNewPassword));
    node.child.kill('SIGHUP');
    // Users change only with a restart (the reload line says so): bob's old password still holds.
    await until(() => /not reloaded, needs a restart: nats\.users/.test(node.output()), 10_000, 'the reload refusal logged');
    const bob = await connect({ port: node.port, user: 'bob', pass: bobPassword, tls });
    await bob.flush();
    await Promise.all([alice.close(), bob.close()]);
    const output = node.output();
    // The run did log: the failed logins, the route dials, the reload.
    expect(output).toContain('closing client: Authorization Violation');
    expect(output).toContain('route dial failed');
    expect(output).toContain('values not shown: a secret');
    for (const secret of secrets()) expect(output, `the output carries ${secret}`).not.toContain(secret);
  });

  it('answers /varz, /connz (with auth) and /routez without a secret', async () => {
    const answers = [await get(node.httpPort, '/varz'), await get(node.httpPort, '/connz?auth=1'), await get(node.httpPort, '/routez')];
    expect(JSON.parse(answers[0]!)).toMatchObject({ auth_required: true, tls_required: true });
    for (const secret of secrets()) for (const answer of answers) expect(answer).not.toContain(secret);
  });

  it('-t with the same file says it is valid and prints nothing else', async () => {
    const result = await runTstan(['-t', '-c', confFile]);
    expect(result).toEqual({ code: 0, stdout: 'configuration is valid\n', stderr: '' });
  });

  it('-t and start-up name the option, not the secret, when a value holding one is wrong', async () => {
    const cases: Array<[string[], string]> = [
      [['--cluster', `nats://u:${dialPassword}@127.0.0.1:notaport`], dialPassword],
      [['--routes', `nats-route://u:${dialPassword}@[::1`], dialPassword],
      [['-ns', `nats://u:${dialPassword}@127.0.0.1:x`], dialPassword],
      [['--user', 'u', '--pass', bobPassword, '--auth', guess], guess],
    ];
    for (const [args, secret] of cases) {
      for (const check of [['-t'], []]) {
        const result = await runTstan([...check, '-p', '-1', '-m', '0', ...args], { timeoutMs: 15_000 });
        expect(result.code, `${args.join(' ')}: ${result.stderr}`).not.toBe(0);
        expect(result.stderr.length).toBeGreaterThan(0);
        expect(result.stdout + result.stderr).not.toContain(secret);
        expect(result.stdout + result.stderr).not.toContain(bobPassword);
      }
    }
  });
});
