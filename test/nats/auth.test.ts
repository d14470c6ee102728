// Proves user/password and token authorization: right credentials connect, wrong or missing ones
// get 'Authorization Violation', and a client that never sends CONNECT gets 'Authentication Timeout'.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'nats';
import type { EmbeddedNatsServer } from '../../src/transport/nats/server.js';
import { startEmbedded } from '../support/embedded.js';
import { RawClient } from '../support/raw-client.js';

describe('user and password', () => {
  let server: EmbeddedNatsServer;
  beforeAll(async () => {
    server = await startEmbedded({ user: 'alice', password: 's3cret', authTimeoutMs: 200 });
  });
  afterAll(async () => {
    await server.shutdown();
  });

  it('accepts the right credentials', async () => {
    const nc = await connect({ port: server.port, user: 'alice', pass: 's3cret' });
    await nc.flush();
    await nc.close();
  });

  it('refuses a wrong password', async () => {
    await expect(connect({ port: server.port, user: 'alice', pass: 'nope', reconnect: false })).rejects.toMatchObject({
      code: 'AUTHORIZATION_VIOLATION',
    });
  });

  it('refuses a client without credentials', async () => {
    await expect(connect({ port: server.port, reconnect: false })).rejects.toMatchObject({ code: 'AUTHORIZATION_VIOLATION' });
  });

  it('announces auth_required and refuses operations before CONNECT', async () => {
    const client = await RawClient.open(server.port);
    expect(client.received).toContain('"auth_required":true');
    client.send('SUB foo 1\r\n');
    await client.waitFor(/-ERR 'Authorization Violation'\r\n/);
    await client.waitClosed();
  });

  it('drops a client that does not authenticate in time', async () => {
    const client = await RawClient.open(server.port);
    await client.waitFor(/-ERR 'Authentication Timeout'\r\n/);
    await client.waitClosed();
  });
});

describe('token', () => {
  it('accepts the token and refuses another', async () => {
    const server = await startEmbedded({ authToken: 'tok-123' });
    try {
      const nc = await connect({ port: server.port, token: 'tok-123' });
      await nc.flush();
      await nc.close();
      await expect(connect({ port: server.port, token: 'other', reconnect: false })).rejects.toMatchObject({
        code: 'AUTHORIZATION_VIOLATION',
      });
    } finally {
      await server.shutdown();
    }
  });
});
