// Which addresses to advertise for a listen host: the host itself, or for a wildcard host the
// machine's IPv4 addresses (loopback last, so remote peers try reachable ones first).
import { networkInterfaces } from 'node:os';

export function advertisedHosts(host: string): string[] {
  if (host !== '0.0.0.0' && host !== '::' && host !== '') return [host];
  const external: string[] = [];
  const internal: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const address of list ?? []) {
      if (address.family !== 'IPv4') continue;
      (address.internal ? internal : external).push(address.address);
    }
  }
  const all = [...external, ...internal];
  return all.length > 0 ? all : ['127.0.0.1'];
}
