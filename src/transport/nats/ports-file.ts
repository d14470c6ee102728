// The ports file of `--ports_file_dir`, in nats-server's format: `<exe>_<pid>.ports` holding the
// URLs actually bound, so that tests and scripts can use `-p -1` and find the ports.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { advertisedHosts } from './addresses.js';

export interface BoundPorts {
  readonly host: string;
  readonly port: number;
  readonly httpHost: string;
  readonly httpPort: number;
  readonly clusterHost?: string;
  readonly clusterPort?: number;
  /** TLS required of clients: `tls://` URLs, as nats-server writes them. */
  readonly tls?: boolean;
  /** Monitoring over HTTPS. */
  readonly https?: boolean;
  readonly clusterTls?: boolean;
}

/** Writes the ports file and returns its path. */
export function writePortsFile(dir: string, ports: BoundPorts): string {
  const content: Record<string, string[]> = {};
  // With -ns the NATS server is someone else's: there is no client port of ours to name.
  const natsScheme = ports.tls === true ? 'tls' : 'nats';
  const monitorScheme = ports.https === true ? 'https' : 'http';
  const clusterScheme = ports.clusterTls === true ? 'tls' : 'nats';
  if (ports.port) content['nats'] = advertisedHosts(ports.host).map((host) => `${natsScheme}://${host}:${ports.port}`);
  if (ports.httpPort) content['monitoring'] = advertisedHosts(ports.httpHost).map((host) => `${monitorScheme}://${host}:${ports.httpPort}`);
  if (ports.clusterPort && ports.clusterHost !== undefined) {
    content['cluster'] = advertisedHosts(ports.clusterHost).map((host) => `${clusterScheme}://${host}:${ports.clusterPort}`);
  }
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `tstan_${process.pid}.ports`);
  writeFileSync(file, JSON.stringify(content));
  return file;
}

export function removePortsFile(file: string): void {
  if (file) rmSync(file, { force: true });
}
