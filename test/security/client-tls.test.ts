// Proves TLS on the client port as nats-server 2.9 does it, with certificates made by openssl at
// run time: INFO in plain text with tls_required, then the client's handshake; the `nats` 2.x
// client verifies the server; a plaintext client is told 'Secure Connection - TLS Required'; with
// verify on, a certificate from the CA is accepted and none or one from another CA refused while
// the server goes on serving; cipher_suites and curve_preferences decide what is negotiated; -ms
// serves monitoring over HTTPS. Embedded servers on free ports, real sockets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { connect, StringCodec, type NatsConnection } from 'nats';
import type { EmbeddedNatsServer } from '../../src/transport/nats/server.js';
import { startEmbedded } from '../support/embedded.js';
import { makeCertificates, type TestCertificates } from '../support/certs.js';
import { RawClient } from '../support/raw-client.js';
import { skipWithout } from '../support/test-deps.js';
import { httpsJson, serverTls } from './support.js';

const sc = StringCodec();

async function roundTrip(nc: NatsConnection, subject: string): Promise<string> {
  const sub = nc.subscribe(subject, { max: 1 });
  nc.publish(subject, sc.encode(`hello ${subject}`));
  for await (const msg of sub) return sc.decode(msg.data);
  throw new Error('subscription ended without a message');
}

describe.skipIf(skipWithout('openssl'))('TLS for clients', () => {
  let certs: TestCertificates;
  let ca: Buffer;

  beforeAll(() => {
    certs = makeCertificates();
    ca = readFileSync(certs.caFile);
  });
  afterAll(() => certs?.remove());

  describe('without client certificates', () => {
    let server: EmbeddedNatsServer;
    beforeAll(async () => {
      server = await startEmbedded({ tls: serverTls(certs, { timeoutMs: 300 }) });
    });
    afterAll(async () => server?.shutdown());

    it('announces tls_required in a plain-text INFO, and a nats 2.x client that trusts the CA talks over TLS', async () => {
      const raw = await RawClient.open(server.port);
      expect(JSON.parse(raw.received.slice(5))).toMatchObject({ tls_required: true });
      expect(raw.received).not.toContain('tls_verify');
      raw.close();
      const nc = await connect({ port: server.port, tls: { caFile: certs.caFile } });
      try {
        expect(await roundTrip(nc, 'tls.one')).toBe('hello tls.one');
        const [client] = [...server.clients.values()];
        expect(client?.tlsVersion).toMatch(/^1\.[23]$/);
      } finally {
        await nc.close();
      }
    });

    it('a client that does not trust the CA refuses the server', async () => {
      await expect(connect({ port: server.port, reconnect: false, tls: {} })).rejects.toThrow(/certificate/);
    });

    it("a plaintext client that speaks first gets 'Secure Connection - TLS Required' and is closed", async () => {
      const raw = await RawClient.open(server.port);
      raw.send('CONNECT {"verbose":false}\r\nPING\r\n');
      await raw.waitFor(/-ERR 'Secure Connection - TLS Required'\r\n/);
      await raw.waitClosed();
      expect(raw.received).not.toContain('PONG');
    });

    it('a client that never starts TLS gets the same error when the tls timeout ends', async () => {
      const raw = await RawClient.open(server.port);
      await raw.waitFor(/-ERR 'Secure Connection - TLS Required'\r\n/);
      await raw.waitClosed();
    });
  });

  describe('with verify', () => {
    let server: EmbeddedNatsServer;
    beforeAll(async () => {
      server = await startEmbedded({ tls: serverTls(certs, { verify: true }) });
    });
    afterAll(async () => server?.shutdown());

    it('announces tls_verify and accepts a certificate its CA signed', async () => {
      const raw = await RawClient.open(server.port);
      expect(JSON.parse(raw.received.slice(5))).toMatchObject({ tls_required: true, tls_verify: true });
      raw.close();
      const nc = await connect({ port: server.port, tls: { caFile: certs.caFile, certFile: certs.clientCert, keyFile: certs.clientKey } });
      try {
        expect(await roundTrip(nc, 'verified')).toBe('hello verified');
      } finally {
        await nc.close();
      }
    });

    it('refuses a client without a certificate and one whose certificate another CA signed, and goes on serving', async () => {
      const good = await connect({ port: server.port, tls: { caFile: certs.caFile, certFile: certs.clientCert, keyFile: certs.clientKey } });
      try {
        const attempts = [
          connect({ port: server.port, reconnect: false, timeout: 3_000, tls: { caFile: certs.caFile } }),
          connect({ port: server.port, reconnect: false, timeout: 3_000, tls: { caFile: certs.caFile, certFile: certs.rogueClientCert, keyFile: certs.rogueClientKey } }),
        ];
        for (const attempt of attempts) {
          // TLS 1.3: the client finishes its side first, then the server closes the connection.
          const outcome = await attempt.then(async (nc) => {
            await nc.flush().catch(() => undefined);
            const closed = await nc.closed();
            return closed ?? new Error('closed');
          }, (error: unknown) => error);
          expect(outcome).toBeInstanceOf(Error);
        }
        expect(await roundTrip(good, 'still.serving')).toBe('hello still.serving');
        expect(server.clients.size).toBe(1);
      } finally {
        await good.close();
      }
    });
  });

  describe('cipher_suites and curve_preferences', () => {
    let server: EmbeddedNatsServer;
    beforeAll(async () => {
      server = await startEmbedded({
        tls: serverTls(certs, { cipherSuites: ['TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384'], curvePreferences: ['CurveP384'] }),
      });
    });
    afterAll(async () => server?.shutdown());

    // The client offers TLS 1.2 only: 1.3 suites are not configurable, in Go as here.
    const tls12 = (extra: Record<string, string>): Record<string, string> => ({ caFile: certs.caFile, maxVersion: 'TLSv1.2', ...extra });

    it('negotiates the configured suite with a TLS 1.2 client', async () => {
      const nc = await connect({ port: server.port, tls: tls12({}) });
      try {
        await nc.flush();
        const [client] = [...server.clients.values()];
        expect([client?.tlsVersion, client?.tlsCipher]).toEqual(['1.2', 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384']);
      } finally {
        await nc.close();
      }
    });

    it('refuses a client offering only another suite, or only another curve', async () => {
      await expect(connect({ port: server.port, reconnect: false, tls: tls12({ ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }) })).rejects.toThrow();
      await expect(connect({ port: server.port, reconnect: false, tls: tls12({ ecdhCurve: 'P-256' }) })).rejects.toThrow();
      expect(server.clients.size).toBe(0);
    });
  });

  describe('monitoring over HTTPS (-ms)', () => {
    let server: EmbeddedNatsServer;
    beforeAll(async () => {
      server = await startEmbedded({ httpsPort: -1, tls: serverTls(certs, { verify: true }) });
    });
    afterAll(async () => server?.shutdown());

    it('serves /varz over HTTPS with the client certificate, asking no certificate of the browser', async () => {
      const { status, body } = await httpsJson(`https://localhost:${server.httpPort}/varz`, ca);
      expect(status).toBe(200);
      expect(body).toMatchObject({ tls_required: true, tls_verify: true, https_port: server.httpPort, http_port: 0, tls_timeout: 2 });
    });

    it('does not answer plain HTTP', async () => {
      await expect(fetch(`http://127.0.0.1:${server.httpPort}/varz`)).rejects.toThrow();
    });
  });
});
