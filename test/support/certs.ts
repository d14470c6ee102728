// Certificates made at test time with openssl (no key material is committed): a CA, a server
// certificate it signs for localhost and 127.0.0.1 (usable as a client certificate too, as route
// peers use theirs), a client certificate it signs, and a second, unrelated CA with a client
// certificate of its own, for "a certificate from the wrong CA" cases. EC P-256 keys: fast to make.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installCommand, missingTestTools } from '../../scripts/test-deps.mjs';

export interface TestCertificates {
  readonly dir: string;
  readonly caFile: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** A CA that signed nothing the servers trust, and a client certificate it signed. */
  readonly rogueCaFile: string;
  readonly rogueClientCert: string;
  readonly rogueClientKey: string;
  remove(): void;
}

function openssl(dir: string, args: string[]): void {
  const result = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (result.error !== undefined) throw new Error(`cannot run openssl (${result.error.message}): ${installCommand(missingTestTools(['openssl']))}`);
  if (result.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${result.stderr}`);
}

const keyArgs = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function makeCa(dir: string, name: string): void {
  openssl(dir, ['req', '-x509', ...keyArgs, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${name}`]);
}

function makeSigned(dir: string, ca: string, name: string, extensions: string): void {
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(dir, ['req', ...keyArgs, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
  openssl(dir, [
    'x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial',
    '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`,
  ]);
}

export function makeCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'tstan-certs-'));
  try {
    makeCa(dir, 'ca');
    makeSigned(dir, 'ca', 'server', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n');
    makeSigned(dir, 'ca', 'client', 'extendedKeyUsage=clientAuth\n');
    makeCa(dir, 'rogue-ca');
    makeSigned(dir, 'rogue-ca', 'rogue-client', 'extendedKeyUsage=clientAuth\n');
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const file = (name: string): string => join(dir, name);
  return {
    dir,
    caFile: file('ca.pem'),
    serverCert: file('server.pem'),
    serverKey: file('server.key'),
    clientCert: file('client.pem'),
    clientKey: file('client.key'),
    rogueCaFile: file('rogue-ca.pem'),
    rogueClientCert: file('rogue-client.pem'),
    rogueClientKey: file('rogue-client.key'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
