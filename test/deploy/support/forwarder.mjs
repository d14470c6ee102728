// The container network's half of a published port (test/deploy/support/netns.ts): run inside
// the bridge namespace with `SOCKET=HOST:PORT` arguments, it accepts connections on each unix
// socket and connects them to HOST:PORT, a container's address. Prints `ready` once every socket
// listens; exits when its standard output closes or on a signal.
import { createConnection, createServer } from 'node:net';
import { rmSync } from 'node:fs';

const routes = process.argv.slice(2).map((arg) => {
  const [socket, target] = arg.split('=');
  const colon = target.lastIndexOf(':');
  return { socket, host: target.slice(0, colon), port: Number(target.slice(colon + 1)) };
});

let listening = 0;
for (const route of routes) {
  rmSync(route.socket, { force: true });
  const server = createServer((inbound) => {
    const outbound = createConnection({ host: route.host, port: route.port });
    const end = () => {
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('error', end).on('close', end);
    outbound.on('error', end).on('close', end);
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  server.listen(route.socket, () => {
    if (++listening === routes.length) process.stdout.write('ready\n');
  });
}
process.stdout.on('error', () => process.exit(0));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
