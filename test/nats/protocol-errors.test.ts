// Proves protocol errors over raw sockets get nats-server's -ERR texts, close only the offending
// connection, and leave every other client served; also verbose +OK, PING/PONG and stale pings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedNatsServer } from '../../src/transport/nats/server.js';
import { startEmbedded } from '../support/embedded.js';
import { RawClient } from '../support/raw-client.js';

describe('protocol errors', () => {
  let server: EmbeddedNatsServer;
  let witness: RawClient;

  beforeAll(async () => {
    server = await startEmbedded({ maxPayloadBytes: 1024, maxControlLineBytes: 256 });
    witness = await RawClient.open(server.port);
    witness.send('CONNECT {"verbose":false}\r\nSUB witness.> 1\r\nPING\r\n');
    await witness.waitFor(/PONG\r\n/);
  });

  afterAll(async () => {
    witness.close();
    await server.shutdown();
  });

  /** The witness still gets messages after each bad client. */
  async function witnessStillServed(tag: string): Promise<void> {
    const client = await RawClient.open(server.port);
    client.send(`CONNECT {}\r\nPUB witness.${tag} 2\r\nok\r\n`);
    await witness.waitFor(new RegExp(`MSG witness\\.${tag} 1 2\\r\\nok\\r\\n`));
    client.close();
  }

  it('announces INFO with the fields clients rely on', async () => {
    const client = await RawClient.open(server.port);
    const info = JSON.parse(client.received.slice(5, client.received.indexOf('\r\n'))) as Record<string, unknown>;
    expect(info).toMatchObject({ proto: 1, headers: true, max_payload: 1024, port: server.port });
    expect(typeof info['server_id']).toBe('string');
    expect(String(info['version'])).toMatch(/^\d+\.\d+\.\d+$/);
    client.close();
  });

  it('rejects a payload over max_payload with Maximum Payload Violation and closes', async () => {
    const client = await RawClient.open(server.port);
    client.send('CONNECT {}\r\nPUB big 2048\r\n');
    await client.waitFor(/-ERR 'Maximum Payload Violation'\r\n/);
    await client.waitClosed();
    await witnessStillServed('payload');
  });

  it('rejects an unknown operation and closes', async () => {
    const client = await RawClient.open(server.port);
    client.send('CONNECT {}\r\nFOO bar\r\n');
    await client.waitFor(/-ERR 'Unknown Protocol Operation'\r\n/);
    await client.waitClosed();
    await witnessStillServed('unknown');
  });

  it('rejects a control line over the limit and closes', async () => {
    const client = await RawClient.open(server.port);
    client.send(`CONNECT {}\r\nSUB ${'a'.repeat(400)}`);
    await client.waitFor(/-ERR 'Maximum Control Line Exceeded'\r\n/);
    await client.waitClosed();
    await witnessStillServed('control');
  });

  it('answers Invalid Subject to a bad SUB and keeps the connection', async () => {
    const client = await RawClient.open(server.port);
    client.send('CONNECT {}\r\nSUB foo..bar 1\r\nSUB foo.>.bar 2\r\nPING\r\n');
    await client.waitFor(/-ERR 'Invalid Subject'\r\n-ERR 'Invalid Subject'\r\nPONG\r\n/);
    expect(client.closed).toBe(false);
    client.close();
  });

  it('rejects a payload not followed by CRLF', async () => {
    const client = await RawClient.open(server.port);
    client.send('CONNECT {}\r\nPUB foo 2\r\nabcdef\r\n');
    await client.waitFor(/-ERR 'Unknown Protocol Operation'\r\n/);
    await client.waitClosed();
    await witnessStillServed('crlf');
  });

  it('rejects a malformed CONNECT', async () => {
    const client = await RawClient.open(server.port);
    client.send('CONNECT {not json\r\n');
    await client.waitFor(/-ERR 'Unknown Protocol Operation'\r\n/);
    await client.waitClosed();
  });

  it('acknowledges with +OK in verbose mode and checks publish subjects when pedantic', async () => {
    const client = await RawClient.open(server.port);
    client.send('CONNECT {"verbose":true,"pedantic":true}\r\nSUB v.x 1\r\nPUB v.x 1\r\na\r\nPUB v.* 1\r\nb\r\nUNSUB 1\r\nPING\r\n');
    await client.waitFor(/PONG\r\n/);
    expect(client.received).toContain("-ERR 'Invalid Publish Subject'\r\n");
    expect(client.received.match(/\+OK\r\n/g)?.length).toBe(4);
    expect(client.received).toContain('MSG v.x 1 1\r\na\r\n');
    client.close();
  });

  it('accepts lower-case operations and many frames in one write', async () => {
    const client = await RawClient.open(server.port);
    client.send('connect {}\r\nsub lc 9\r\npub lc 3\r\nabc\r\npub lc 0\r\n\r\nping\r\n');
    await client.waitFor(/MSG lc 9 3\r\nabc\r\nMSG lc 9 0\r\n\r\n[\s\S]*PONG\r\n/);
    client.close();
  });
});

describe('server pings', () => {
  it('pings an idle client and drops it as stale when it stops answering', async () => {
    const server = await startEmbedded({ pingIntervalMs: 50, pingsOutstandingMax: 2 });
    try {
      const answering = await RawClient.open(server.port);
      answering.autoPong = true;
      answering.send('CONNECT {}\r\n');
      const silent = await RawClient.open(server.port);
      silent.send('CONNECT {}\r\n');
      await answering.waitFor(/PING\r\n/);
      await silent.waitFor(/-ERR 'Stale Connection'\r\n/);
      await silent.waitClosed();
      // The answering client is still there after the silent one was dropped.
      answering.send('PING\r\n');
      await answering.waitFor(/PONG\r\n/);
      expect(answering.closed).toBe(false);
      answering.close();
    } finally {
      await server.shutdown();
    }
  });
});

describe('connection limit', () => {
  it('refuses connections past max_connections and serves the ones within it', async () => {
    const server = await startEmbedded({ maxConnections: 2 });
    try {
      const first = await RawClient.open(server.port);
      const second = await RawClient.open(server.port);
      const third = await RawClient.open(server.port).catch((error: Error) => error);
      expect(third).toBeInstanceOf(Error);
      expect(String(third)).toContain("maximum connections exceeded");
      first.send('CONNECT {}\r\nPING\r\n');
      await first.waitFor(/PONG\r\n/);
      first.close();
      second.close();
    } finally {
      await server.shutdown();
    }
  });
});
