// Starts an embedded tstan NATS server on free ports for a test and stops it afterwards.
import { EmbeddedNatsServer } from '../../src/transport/nats/server.js';
import type { NatsServerOptions } from '../../src/transport/nats/options.js';
import { silentLogger } from '../../src/util/logger.js';

export async function startEmbedded(options: Partial<NatsServerOptions> = {}): Promise<EmbeddedNatsServer> {
  const server = new EmbeddedNatsServer({ host: '127.0.0.1', port: -1, ...options }, silentLogger());
  await server.start();
  return server;
}

/** Resolves once `predicate` holds, checking on every event-loop turn; rejects after `timeoutMs`. */
export async function until(predicate: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
