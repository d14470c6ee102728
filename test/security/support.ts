// Helpers shared by the security tests: TLS settings from the test certificates, and an HTTPS GET
// that trusts the test CA.
import { request } from 'node:https';
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
