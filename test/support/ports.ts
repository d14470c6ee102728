// Free ports chosen at run time. A port the kernel hands out for port 0 comes from the ephemeral
// range, which is also where every outgoing connection takes its local port: between our check and
// the server's bind, a client socket elsewhere (another test's, a route's) can take it, and the
// server then fails with "address in use". So a random port below that range is tried first (no
// outgoing connection uses those), bound once to check that it is free, and released; port 0 is
// the fallback when none is found. The range starts above 10080, the highest of the ports that
// fetch() refuses to connect to (the WHATWG "bad ports": a monitoring port there is unreachable).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const LOWEST = 10_100;

/** The first port of the kernel's ephemeral range (Linux; 32768 elsewhere). */
function ephemeralStart(): number {
  try {
    const first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(first) && first > LOWEST ? first : 32_768;
  } catch {
    return 32_768;
  }
}

const below = ephemeralStart();
const taken = new Set<number>();

/**
 * The ports this process draws from: test files run at once in several vitest workers, so each
 * worker (VITEST_POOL_ID) has a slice of its own and two files never draw the same port; slice 0
 * is for runs outside vitest (the chaos and soak command lines).
 */
const SLICES = 16;
function slice(): { first: number; size: number } {
  const size = Math.floor((below - LOWEST) / SLICES);
  const pool = Number(process.env['VITEST_POOL_ID']);
  const index = Number.isInteger(pool) && pool > 0 ? 1 + ((pool - 1) % (SLICES - 1)) : 0;
  return { first: LOWEST + index * size, size };
}

function tryBind(port: number, host: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(undefined));
    server.listen({ port, host, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(bound === 0 ? undefined : bound));
    });
  });
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  const { first, size } = slice();
  for (let attempt = 0; attempt < 50 && size > 100; attempt++) {
    const port = first + Math.floor(Math.random() * size);
    // Not twice to the same process: a port handed out and not bound yet still looks free.
    if (taken.has(port)) continue;
    if ((await tryBind(port, host)) !== undefined) {
      taken.add(port);
      return port;
    }
  }
  const port = await tryBind(0, host);
  if (port === undefined) throw new Error(`no free port on ${host}`);
  return port;
}
