// Client connect (with the duplicate client ID probe), close, server heartbeats and client pings.
// Registering and unregistering are ops (connect, disconnect); heartbeats, probes and their
// timers are the serving node's runtime.
import { StanErrors } from './errors.js';
import { isValidClientId } from './names.js';
import type { ConnectRequest } from './protocol.js';
import type { ClientRecord } from '../fsm/records.js';
import type { OpResult } from '../fsm/ops.js';
import { InDoubtError } from '../fsm/writer.js';
import type { ServerContext } from './context.js';
import { guarded } from './context.js';
import type { ClientState } from './state.js';
import { detachClosed, markClosing, settleClosed } from './unsubscribe.js';

const EMPTY = new Uint8Array(0);
/** A client that missed heartbeats and then pings is checked again this soon. */
const RECHECK_AFTER_PING_MS = 1;

export class ClientRegistry {
  /** Client IDs whose duplicate probe or registration is running: another connect is refused. */
  private readonly probing = new Set<string>();
  private stopped = false;

  constructor(private readonly ctx: ServerContext) {}

  /** Handles a ConnectRequest; `reply` gets '' or an error text, or nothing when in doubt. */
  connect(req: ConnectRequest, reply: (error: string) => void): void {
    if (req.heartbeatInbox === '') return reply(StanErrors.invalidConnectRequest);
    if (!isValidClientId(req.clientID)) return reply(StanErrors.invalidClientId);
    if (this.probing.has(req.clientID)) return reply(StanErrors.clientIdAlreadyRegistered);
    const old = this.ctx.clients.get(req.clientID);
    this.probing.add(req.clientID);
    if (old === undefined) {
      this.register(req, undefined, reply);
      return;
    }
    this.ctx.hb.request(old.hbInbox, EMPTY, this.ctx.options.duplicateClientProbeMs, (error) => {
      if (this.stopped) return;
      if (error === null && this.ctx.clients.get(req.clientID) === old) {
        this.probing.delete(req.clientID);
        reply(StanErrors.clientIdAlreadyRegistered);
        return;
      }
      // The old client is gone (or was closed meanwhile): the new one replaces it.
      const current = this.ctx.clients.get(req.clientID);
      this.register(req, current, reply);
    });
  }

  private register(req: ConnectRequest, replacing: ClientState | undefined, reply: (error: string) => void): void {
    const ctx = this.ctx;
    if (replacing !== undefined) markClosing(ctx, replacing);
    ctx.progress.flush();
    const op = {
      type: 'connect',
      clientId: req.clientID,
      hbInbox: req.heartbeatInbox,
      connId: req.connID,
      protocol: req.protocol,
      pingInterval: req.pingInterval,
      pingMaxOut: req.pingMaxOut,
      replace: replacing !== undefined,
    } as const;
    ctx.writer.submit([op]).then(
      ([result]) => {
        this.probing.delete(req.clientID);
        if (replacing !== undefined) this.forget(replacing, result!, 'replaced by a new connection');
        if (result!.error !== '') return reply(result!.error);
        const record = ctx.fsm.state.clients.get(req.clientID);
        if (record === undefined || this.stopped) return;
        this.adopt(record);
        reply('');
      },
      (error: unknown) => {
        this.probing.delete(req.clientID);
        if (error instanceof InDoubtError) return;
        reply(error instanceof Error ? error.message : String(error));
      },
    );
  }

  /** Runtime for a client record: heartbeats start. */
  adopt(record: ClientRecord): ClientState {
    const client: ClientState = {
      record,
      id: record.id,
      hbInbox: record.hbInbox,
      connId: record.connKey,
      createdMs: this.ctx.scheduler.nowMs(),
      hbFailed: 0,
      hbTimer: undefined,
      hbInFlight: false,
      subs: new Set(),
      closed: false,
    };
    this.ctx.clients.set(client.id, client);
    this.scheduleHeartbeat(client, this.ctx.options.hbIntervalMs);
    this.ctx.logger.debug({ clientId: client.id }, 'client connected');
    return client;
  }

  /** Unregisters a client (disconnect op): non-durable subscriptions go, durables go offline. */
  close(client: ClientState, reason: string): Promise<string> {
    const ctx = this.ctx;
    if (client.closed) return Promise.resolve(StanErrors.unknownClientId);
    markClosing(ctx, client);
    ctx.progress.flush();
    return ctx.writer.submit([{ type: 'disconnect', clientId: client.id }]).then(
      ([result]) => {
        this.forget(client, result!, reason);
        return result!.error;
      },
      (error: unknown) => {
        if (error instanceof InDoubtError) throw error;
        return error instanceof Error ? error.message : String(error);
      },
    );
  }

  /** After the disconnect (or replacing connect) op: the client's runtime goes. */
  private forget(client: ClientState, result: OpResult, reason: string): void {
    const ctx = this.ctx;
    this.stopHeartbeats(client);
    for (const sub of [...client.subs]) detachClosed(ctx, sub);
    settleClosed(ctx, result);
    if (ctx.clients.get(client.id) === client) ctx.clients.delete(client.id);
    ctx.logger.debug({ clientId: client.id, reason }, 'client closed');
  }

  /** CloseRequest: resolves the error text, '' on success; rejects when the outcome is in doubt. */
  handleClose(clientId: string): Promise<string> {
    const client = this.ctx.clients.get(clientId);
    if (client === undefined || client.closed) return Promise.resolve(StanErrors.unknownClientId);
    return this.close(client, 'close request');
  }

  /** Ping from a protocol-1 client: '' when its connection is the registered one. */
  handlePing(connId: Uint8Array): string {
    const record = this.ctx.fsm.state.clientsByConnId.get(Buffer.from(connId.buffer, connId.byteOffset, connId.byteLength).toString('latin1'));
    const client = record === undefined ? undefined : this.ctx.clients.get(record.id);
    if (client === undefined || client.record !== record) return StanErrors.clientReplaced;
    if (client.hbFailed > 0) this.scheduleHeartbeat(client, RECHECK_AFTER_PING_MS);
    return '';
  }

  /** A publish is valid for the client registered with this connID (latin1 key), or by client ID for protocol 0. */
  isValidPublisher(clientId: string, connIdKeyLatin1: string): boolean {
    const state = this.ctx.fsm.state;
    if (connIdKeyLatin1 !== '') return state.clientsByConnId.get(connIdKeyLatin1)?.id === clientId;
    return state.clients.has(clientId);
  }

  isHealthy(clientId: string): boolean {
    const client = this.ctx.clients.get(clientId);
    return client === undefined || client.hbFailed === 0;
  }

  private scheduleHeartbeat(client: ClientState, delayMs: number): void {
    if (client.closed || this.stopped) return;
    const scheduler = this.ctx.scheduler;
    if (client.hbTimer !== undefined) scheduler.clearTimeout(client.hbTimer);
    client.hbTimer = scheduler.setTimeout(() => {
      client.hbTimer = undefined;
      guarded(this.ctx, 'heartbeat', () => this.heartbeat(client));
    }, delayMs);
  }

  private stopHeartbeats(client: ClientState): void {
    if (client.hbTimer !== undefined) this.ctx.scheduler.clearTimeout(client.hbTimer);
    client.hbTimer = undefined;
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
          this.close(client, 'missed heartbeats').catch(() => undefined);
          return;
        }
      }
      this.scheduleHeartbeat(client, this.ctx.options.hbIntervalMs);
    });
  }

  stop(): void {
    this.stopped = true;
    for (const client of this.ctx.clients.values()) this.stopHeartbeats(client);
  }
}
