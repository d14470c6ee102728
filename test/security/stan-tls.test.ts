// Proves the tstan command serves STAN over TLS to the published clients, with certificates made
// by openssl at run time: node-nats-streaming with the `nats` 1.x TLS options (server verified,
// then with a client certificate) and the `nats` 2.x client on the same port; TLS from the flags
// and from a conf file's tls block; monitoring over HTTPS (-ms); `-t` reading the certificate
// files as start-up does, and --help_tls. Spawned processes on free ports.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, StringCodec } from 'nats';
import { runTstan, startTstan, type TstanProcess } from '../support/tstan-process.js';
import { makeCertificates, type TestCertificates } from '../support/certs.js';
import { skipWithout } from '../support/test-deps.js';
import { closeClient, dataOf, publish, stan, subscribe, type StanClient, type StanMessage } from '../stan/harness.js';
import { until } from '../support/embedded.js';
import { httpsJson } from './support.js';

const sc = StringCodec();

function stanConnect(port: number, clientId: string, tls: Record<string, unknown> | undefined): Promise<StanClient> {
  const client = stan.connect('tls-cluster', clientId, { url: `nats://127.0.0.1:${port}`, ...(tls ? { tls } : {}), maxReconnectAttempts: 0 });
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', (error: Error | string) => {
      client.nc.close();
      reject(typeof error === 'string' ? new Error(error) : error);
    });
    // Refused by the server's certificate check after its own side of a TLS 1.3 handshake ended,
    // the nats 1.x client sees the socket close and emits 'close' without an 'error'.
    client.once('close', () => reject(new Error('connection closed before the STAN connect')));
  });
}

/** A publish and its delivery through a durable-less subscription from the start. */
async function exchange(client: StanClient, channel: string): Promise<string[]> {
  await publish(client, channel, 'one');
  await publish(client, channel, 'two');
  // The backlog may come in the same read as the server's answer: collect from the start.
  const messages: StanMessage[] = [];
  const sub = await subscribe(client, channel, client.subscriptionOptions().setDeliverAllAvailable(), undefined, (msg) => messages.push(msg));
  await until(() => messages.length >= 2, 5_000, 'two messages');
  sub.unsubscribe();
  return dataOf(messages);
}

describe.skipIf(skipWithout('openssl'))('STAN over TLS with the tstan command', () => {
  let certs: TestCertificates;
  let ca: Buffer;

  beforeAll(() => {
    certs = makeCertificates();
    ca = readFileSync(certs.caFile);
  });
  afterAll(() => certs?.remove());

  describe('TLS from the flags, monitoring over HTTPS', () => {
    let node: TstanProcess;
    beforeAll(async () => {
      node = await startTstan(['-cid', 'tls-cluster', '--tls', '--tlscert', certs.serverCert, '--tlskey', certs.serverKey], { monitorArgs: ['-ms', '-1'] });
    });
    afterAll(async () => {
      expect(await node?.stop()).toBe(0);
    });

    it('serves node-nats-streaming that verifies the server with the nats 1.x `tls.ca` option', async () => {
      const client = await stanConnect(node.port, 'v1-verified', { ca: [ca] });
      try {
        expect(await exchange(client, 'orders')).toEqual(['one', 'two']);
      } finally {
        await closeClient(client);
      }
    });

    it('serves a nats 2.x client beside it', async () => {
      const nc = await connect({ port: node.port, tls: { caFile: certs.caFile } });
      try {
        const sub = nc.subscribe('plain.subject', { max: 1 });
        nc.publish('plain.subject', sc.encode('over tls'));
        for await (const msg of sub) expect(sc.decode(msg.data)).toBe('over tls');
      } finally {
        await nc.close();
      }
    });

    it('node-nats-streaming without TLS options upgrades (INFO requires it) and, not trusting the CA, gives up', async () => {
      await expect(stanConnect(node.port, 'v1-plain', undefined)).rejects.toThrow(/unable to verify/);
    });

    it('announces tls:// and https:// in its ports file and serves /streaming/serverz over HTTPS', async () => {
      const { status, body } = await httpsJson(`https://localhost:${node.httpPort}/streaming/serverz`, ca);
      expect(status).toBe(200);
      expect(body).toMatchObject({ cluster_id: 'tls-cluster' });
      const varz = await httpsJson(`https://localhost:${node.httpPort}/varz`, ca);
      expect(varz.body).toMatchObject({ tls_required: true, https_port: node.httpPort });
    });
  });

  describe('TLS from a conf file with verify: client certificates', () => {
    let node: TstanProcess;
    beforeAll(async () => {
      const conf = join(certs.dir, 'verify.conf');
      writeFileSync(conf, `tls {\n  cert_file: "${certs.serverCert}"\n  key_file: "${certs.serverKey}"\n  ca_file: "${certs.caFile}"\n  verify: true\n  timeout: 2\n}\n`);
      node = await startTstan(['-cid', 'tls-cluster', '-c', conf]);
    });
    afterAll(async () => {
      expect(await node?.stop()).toBe(0);
    });

    it('serves node-nats-streaming that presents a certificate its CA signed (nats 1.x `tls.cert`/`tls.key`)', async () => {
      const client = await stanConnect(node.port, 'v1-mutual', { ca: [ca], cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) });
      try {
        expect(await exchange(client, 'payments')).toEqual(['one', 'two']);
      } finally {
        await closeClient(client);
      }
    });

    it('refuses node-nats-streaming without a certificate, and one from another CA', async () => {
      await expect(stanConnect(node.port, 'v1-no-cert', { ca: [ca] })).rejects.toThrow();
      const rogue = { ca: [ca], cert: readFileSync(certs.rogueClientCert), key: readFileSync(certs.rogueClientKey) };
      await expect(stanConnect(node.port, 'v1-rogue', rogue)).rejects.toThrow();
    });

    it('serves a nats 2.x client with a client certificate', async () => {
      const nc = await connect({ port: node.port, tls: { caFile: certs.caFile, certFile: certs.clientCert, keyFile: certs.clientKey } });
      await nc.flush();
      await nc.close();
    });
  });

  describe('checking the configuration', () => {
    it('-t reads the certificate files as start-up does, and names what is wrong', async () => {
      const good = await runTstan(['-t', '--tls', '--tlscert', certs.serverCert, '--tlskey', certs.serverKey]);
      expect([good.code, good.stdout]).toEqual([0, 'configuration is valid\n']);
      const missing = await runTstan(['-t', '--tlscert', certs.serverCert, '--tlskey', join(certs.dir, 'absent.key')]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toBe(`tstan: TLS for clients: cannot read the key file "${join(certs.dir, 'absent.key')}": no such file\n`);
      const swapped = await runTstan(['-t', '--tlscert', certs.serverKey, '--tlskey', certs.serverKey]);
      expect(swapped.stderr).toMatch(/^tstan: TLS for clients: error parsing X509 certificate\/key pair/);
      const noKey = await runTstan(['-t', '--tls', '--tlscert', certs.serverCert]);
      expect(noKey.stderr).toBe('tstan: TLS for clients: TLS Server private key must be present and valid\n');
      const https = await runTstan(['-t', '-ms', '8443']);
      expect(https.stderr).toMatch(/TLS cert and key required for HTTPS/);
    });

    it('--help_tls shows the tls block and the names it takes', async () => {
      const { code, stdout } = await runTstan(['--help_tls']);
      expect(code).toBe(0);
      expect(stdout).toContain('tls {');
      expect(stdout).toContain('    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256');
      expect(stdout).toContain('    CurveP384');
    });
  });
});
