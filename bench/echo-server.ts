// The Node.js echo server of the loopback floor (loopback-floor.ts): writes back whatever each
// connection sends, on a free loopback port, which it prints on stdout as one line. No logic of
// tstan's: what its round trips cost beside the C echo server's is Node's own share.
import { createServer } from 'node:net';

const server = createServer((socket) => {
  socket.setNoDelay(true);
  socket.on('data', (chunk) => socket.write(chunk));
  socket.on('error', () => socket.destroy());
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('echo server: no TCP address');
  process.stdout.write(`${address.port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
