// Proves the C client (Debian's libnats streaming API, compiled here with cc) reaches tstan over
// TLS: it verifies the server's certificate against the test CA and the host name, presents a
// client certificate when the server asks for one, and is refused with a clear TLS error without
// one or when it trusts another CA. Certificates made by openssl at run time; spawned tstan.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startTstan, type TstanProcess } from '../support/tstan-process.js';
import { makeCertificates, type TestCertificates } from '../support/certs.js';
import { skipWithout } from '../support/test-deps.js';

const run = promisify(execFile);
const source = join(dirname(fileURLToPath(import.meta.url)), '..', 'stan', 'c', 'stan-pubsub.c');

/** What the C program prints and whether it succeeded; never throws on a non-zero exit. */
async function runC(binary: string, args: string[], env: Record<string, string>): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(binary, args, { timeout: 20_000, env: { ...process.env, ...env } });
    return { ok: true, stdout, stderr };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string };
    return { ok: false, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describe.skipIf(skipWithout('libnats-dev', 'cc', 'openssl'))('C client (libnats streaming) over TLS', () => {
  let certs: TestCertificates;
  let dir: string;
  let binary: string;

  beforeAll(async () => {
    certs = makeCertificates();
    dir = mkdtempSync(join(tmpdir(), 'tstan-c-tls-'));
    binary = join(dir, 'stan-pubsub');
    await run('cc', ['-std=gnu11', '-O1', '-o', binary, source, '-lnats', '-lpthread']);
  });
  afterAll(() => {
    certs?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('server verification (--tls)', () => {
    let node: TstanProcess;
    beforeAll(async () => {
      node = await startTstan(['-cid', 'c-tls', '--tls', '--tlscert', certs.serverCert, '--tlskey', certs.serverKey]);
    });
    afterAll(async () => {
      expect(await node?.stop()).toBe(0);
    });

    it('publishes and subscribes after verifying the server against the CA and the name localhost', async () => {
      const result = await runC(binary, [`nats://127.0.0.1:${node.port}`, 'c-tls', 'c-verified', 'c.tls', '3', '3'], { STAN_TLS_CA: certs.caFile });
      expect(result).toEqual({ ok: true, stdout: '1 c-1\n2 c-2\n3 c-3\n', stderr: '' });
    });

    it('refuses to talk to the server when it trusts another CA', async () => {
      const result = await runC(binary, [`nats://127.0.0.1:${node.port}`, 'c-tls', 'c-rogue-ca', 'c.tls', '1', '1'], { STAN_TLS_CA: certs.rogueCaFile });
      expect(result.ok).toBe(false);
      expect(result.stderr).toMatch(/^connect: .*(SSL|certificate)/im);
    });
  });

  describe('client certificates (tls { verify: true })', () => {
    let node: TstanProcess;
    beforeAll(async () => {
      node = await startTstan(['-cid', 'c-tls', '--tlsverify', '--tlscert', certs.serverCert, '--tlskey', certs.serverKey, '--tlscacert', certs.caFile]);
    });
    afterAll(async () => {
      expect(await node?.stop()).toBe(0);
    });

    it('publishes and subscribes presenting a certificate the CA signed', async () => {
      const env = { STAN_TLS_CA: certs.caFile, STAN_TLS_CERT: certs.clientCert, STAN_TLS_KEY: certs.clientKey };
      const result = await runC(binary, [`nats://127.0.0.1:${node.port}`, 'c-tls', 'c-mutual', 'c.mutual', '2', '2'], env);
      expect(result).toEqual({ ok: true, stdout: '1 c-1\n2 c-2\n', stderr: '' });
    });

    it('is refused without a certificate and with one from another CA', async () => {
      const url = `nats://127.0.0.1:${node.port}`;
      const bare = await runC(binary, [url, 'c-tls', 'c-no-cert', 'c.mutual', '1', '1'], { STAN_TLS_CA: certs.caFile });
      expect(bare.ok).toBe(false);
      expect(bare.stderr).toMatch(/^connect: /m);
      const rogue = { STAN_TLS_CA: certs.caFile, STAN_TLS_CERT: certs.rogueClientCert, STAN_TLS_KEY: certs.rogueClientKey };
      const refused = await runC(binary, [url, 'c-tls', 'c-rogue-cert', 'c.mutual', '1', '1'], rogue);
      expect(refused.ok).toBe(false);
      expect(refused.stderr).toMatch(/^connect: /m);
    });
  });
});
