// Helpers shared by the security tests: TLS settings from the test certificates, an HTTPS GET that
// trusts the test CA, and a raw TLS client that speaks the NATS protocol byte by byte.
import { request } from 'node:https';
import { connect as connectTcp } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { once } from 'node:events';
import { defaultTlsSettings, type TlsSettings } from '../../src/transport/nats/tls-settings.js';
import type { TestCertificates } from '../support/certs.js';

/** The server's TLS settings with the test certificates; `verify` asks clients for theirs. */
export function serverTls(certs: TestCertificates, overrides: Partial<TlsSettings> = {}): TlsSettings {
  return { ...defaultTlsSettings, certFile: certs.serverCert, keyFile: certs.serverKey, caFile: certs.caFile, ...overrides };
}

/** GET over HTTPS trusting `caFile`'s CA; resolves with the status and the parsed JSON body. */
export async function httpsJson(url: string, ca: Buffer): Promise<{ status: number; body: Record<string, unknown> }> {
  const req = request(url, { ca, method: 'GET' });
  req.end();
  const [response] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
  let text = '';
  for await (const chunk of response) text += String(chunk);
  return { status: response.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> };
}

/**
 * A NATS client over TLS written by hand: reads the plain-text INFO, starts TLS with the given
 * options, then sends and waits for protocol text. For what the published clients do not show.
 */
export class RawTlsClient {
  received = '';
  info = '';
  closed = false;
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: TLSSocket) {
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => {
      this.received += text;
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static async open(port: number, options: { ca?: Buffer; cert?: Buffer; key?: Buffer }): Promise<RawTlsClient> {
    const raw = connectTcp(port, '127.0.0.1');
    raw.setEncoding('latin1');
    let info = '';
    await new Promise<void>((resolve, reject) => {
      raw.on('data', (text: string) => {
        info += text;
        if (info.includes('\r\n')) resolve();
      });
      raw.once('error', reject);
    });
    raw.removeAllListeners('data');
    const socket = connectTls({ socket: raw, servername: 'localhost', ...options });
    await once(socket, 'secureConnect');
    const client = new RawTlsClient(socket);
    client.info = info;
    return client;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  send(text: string): void {
    this.socket.write(text);
  }

  async waitFor(pattern: RegExp, timeoutMs = 5_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = this.received.match(pattern);
      if (match) return match;
      if (this.closed) throw new Error(`closed before ${pattern}; got ${JSON.stringify(this.received.slice(-300))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${pattern}; got ${JSON.stringify(this.received.slice(-300))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async waitClosed(timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for the server to close the connection');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
