// Binding a listening socket, shared by the client port, the route port and the monitoring port,
// so that a port in use or a missing address stops start-up with one line naming which port.
import type { Server } from 'node:net';
import { TstanError } from './errors.js';

const reasons: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the port is already in use (is another server running?)',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'no local interface has this address',
};

/** A listener could not be bound; the message names what it was for and the address. */
export class ListenError extends TstanError {
  constructor(what: string, host: string, port: number, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code ?? '';
    const reason = reasons[code] ?? (cause instanceof Error ? cause.message : String(cause));
    super('LISTEN_FAILED', `cannot listen for ${what} on ${host}:${port}: ${reason}`, { cause });
    this.name = 'ListenError';
  }
}

/** Listens on `host:port` (0 picks a free port) and resolves with the bound port. */
export async function listenOn(server: Server, host: string, port: number, what: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => reject(new ListenError(what, host, port, error));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : 0;
}
