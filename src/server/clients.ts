// Client connect (with the duplicate client ID probe), close, server heartbeats and client pings
// (PROTOCOL.md §1.3, §1.10, §1.11).
import { StanErrors } from './errors.js';
import { isValidClientId } from './names.js';
import type { ConnectRequest } from './protocol.js';
import type { ClientInfo } from '../store/records.js';
import type { ServerContext } from './context.js';
import type { ClientState } from './state.js';
import { closeSubscription } from './unsubscribe.js';

const EMPTY = new Uint8Array(0);
/** A client that missed heartbeats and then pings is checked again this soon. */
const RECHECK_AFTER_PING_MS = 1;

function connIdKey(connId: Uint8Array): string {
  return Buffer.from(connId.buffer, connId.byteOffset, connId.byteLength).toString('latin1');
}

export class ClientRegistry {
  /** Client IDs whose duplicate probe is running: a second connect for one is rejected at once. */
  private readonly probing = new Set<string>();
  private stopped = false;

  constructor(private readonly ctx: ServerContext) {}

  /** Handles a ConnectRequest; `reply` gets the response fields or an error text. */
  connect(req: ConnectRequest, reply: (error: string) => void): void {
    if (req.heartbeatInbox === '') return reply(StanErrors.invalidConnectRequest);
    if (!isValidClientId(req.clientID)) return reply(StanErrors.invalidClientId);
    if (this.probing.has(req.clientID)) return reply(StanErrors.clientIdAlreadyRegistered);
    const old = this.ctx.clients.get(req.clientID);
    if (old === undefined) {
      this.register(req);
      return reply('');
    }
    this.probing.add(req.clientID);
    this.ctx.hb.request(old.hbInbox, EMPTY, this.ctx.options.duplicateClientProbeMs, (error) => {
      this.probing.delete(req.clientID);
      if (this.stopped) return;
      if (error === null && this.ctx.clients.get(req.clientID) === old) {
        reply(StanErrors.clientIdAlreadyRegistered);
        return;
      }
      // The old client is gone (or was closed meanwhile): it is replaced by the new one.
      if (this.ctx.clients.get(req.clientID) === old) this.close(old, 'replaced by a new connection');
      if (this.ctx.clients.has(req.clientID)) return reply(StanErrors.clientIdAlreadyRegistered);
      this.register(req);
      reply('');
    });
  }

  /** A client recovered from a persistent store: registered again, heartbeats decide its fate. */
  restore(info: ClientInfo): void {
    this.register(
      {
        clientID: info.id,
        heartbeatInbox: info.hbInbox,
        protocol: info.protocol,
        connID: info.connId,
        pingInterval: info.pingInterval,
        pingMaxOut: info.pingMaxOut,
      },
      false,
    );
  }

  private register(req: ConnectRequest, persist = true): ClientState {
    const client: ClientState = {
      id: req.clientID,
      hbInbox: req.heartbeatInbox,
      connId: connIdKey(req.connID),
      protocol: req.protocol,
      pingInterval: req.pingInterval,
      pingMaxOut: req.pingMaxOut,
      createdMs: Date.now(),
      hbFailed: 0,
      hbTimer: undefined,
      hbInFlight: false,
      subs: new Set(),
      closed: false,
    };
    this.ctx.clients.set(client.id, client);
    if (client.connId !== '') this.ctx.clientsByConnId.set(client.connId, client);
    if (persist) this.persistClient(client, req);
    this.scheduleHeartbeat(client, this.ctx.options.hbIntervalMs);
    this.ctx.logger.debug({ clientId: client.id }, 'client connected');
    return client;
  }

  private persistClient(client: ClientState, req: ConnectRequest): void {
    this.ctx.store
      .addClient({
        id: client.id,
        hbInbox: client.hbInbox,
        connId: req.connID,
        protocol: req.protocol,
        pingInterval: req.pingInterval,
        pingMaxOut: req.pingMaxOut,
      })
      .catch((error: unknown) => this.ctx.logger.error({ err: error, clientId: client.id }, 'storing client failed'));
  }

  /** Unregisters a client: non-durable subscriptions removed, durables go offline. */
  close(client: ClientState, reason: string): void {
    if (client.closed) return;
    client.closed = true;
    if (client.hbTimer !== undefined) clearTimeout(client.hbTimer);
    client.hbTimer = undefined;
    for (const sub of [...client.subs]) closeSubscription(this.ctx, sub, false);
    if (this.ctx.clients.get(client.id) === client) this.ctx.clients.delete(client.id);
    if (this.ctx.clientsByConnId.get(client.connId) === client) this.ctx.clientsByConnId.delete(client.connId);
    this.ctx.store
      .deleteClient(client.id)
      .catch((error: unknown) => this.ctx.logger.error({ err: error, clientId: client.id }, 'deleting client failed'));
    this.ctx.logger.debug({ clientId: client.id, reason }, 'client closed');
  }

  /** CloseRequest: returns the error text, '' on success. */
  handleClose(clientId: string): string {
    const client = this.ctx.clients.get(clientId);
    if (client === undefined) return StanErrors.unknownClientId;
    this.close(client, 'close request');
    return '';
  }

  /** Ping from a protocol-1 client: '' when its connection is the registered one. */
  handlePing(connId: Uint8Array): string {
    const client = this.ctx.clientsByConnId.get(connIdKey(connId));
    if (client === undefined) return StanErrors.clientReplaced;
    if (client.hbFailed > 0) this.scheduleHeartbeat(client, RECHECK_AFTER_PING_MS);
    return '';
  }

  /** A publish is valid for the client registered with this connID (latin1 key), or by client ID for protocol 0. */
  isValidPublisher(clientId: string, connIdKeyLatin1: string): boolean {
    if (connIdKeyLatin1 !== '') return this.ctx.clientsByConnId.get(connIdKeyLatin1)?.id === clientId;
    return this.ctx.clients.has(clientId);
  }

  isHealthy(clientId: string): boolean {
    const client = this.ctx.clients.get(clientId);
    return client === undefined || client.hbFailed === 0;
  }

  private scheduleHeartbeat(client: ClientState, delayMs: number): void {
    if (client.closed || this.stopped) return;
    if (client.hbTimer !== undefined) clearTimeout(client.hbTimer);
    client.hbTimer = setTimeout(() => {
      client.hbTimer = undefined;
      try {
        this.heartbeat(client);
      } catch (error) {
        this.ctx.logger.error({ err: error, clientId: client.id }, 'heartbeat failed');
      }
    }, delayMs);
  }

  private heartbeat(client: ClientState): void {
    if (client.closed || this.stopped || client.hbInFlight) return;
    client.hbInFlight = true;
    this.ctx.hb.request(client.hbInbox, EMPTY, this.ctx.options.hbTimeoutMs, (error) => {
      client.hbInFlight = false;
      if (client.closed || this.stopped) return;
      if (error === null) {
        const recovered = client.hbFailed > 0;
        client.hbFailed = 0;
        if (recovered) for (const sub of client.subs) this.ctx.delivery.schedule(sub);
      } else {
        client.hbFailed++;
        this.ctx.logger.debug({ clientId: client.id, failed: client.hbFailed }, 'heartbeat missed');
        if (client.hbFailed > this.ctx.options.hbFailCount) {
          this.ctx.logger.info({ clientId: client.id }, 'client closed after missed heartbeats');
          this.close(client, 'missed heartbeats');
          return;
        }
      }
      this.scheduleHeartbeat(client, this.ctx.options.hbIntervalMs);
    });
  }

  stop(): void {
    this.stopped = true;
    for (const client of this.ctx.clients.values()) {
      if (client.hbTimer !== undefined) clearTimeout(client.hbTimer);
      client.hbTimer = undefined;
    }
  }
}
