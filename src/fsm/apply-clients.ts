// Client ops: register (replacing a client whose duplicate probe failed) and unregister, which
// takes every online subscription of the client with it.
import { StanErrors } from '../server/errors.js';
import type { FsmContext } from './context.js';
import { closeSub } from './apply-subs.js';
import { failed, type ConnectOp, type DisconnectOp, type OpResult, type Reassignment } from './ops.js';
import { clientRecordOf, type ClientRecord } from './records.js';

function removeClient(ctx: FsmContext, client: ClientRecord, reassigned: Reassignment[]): void {
  // Oldest first, so that queue groups see their members leave in a fixed order.
  for (const sub of [...client.subs]) closeSub(ctx, sub, false, reassigned);
  const state = ctx.state;
  state.clients.delete(client.id);
  if (client.connKey !== '' && state.clientsByConnId.get(client.connKey) === client) state.clientsByConnId.delete(client.connKey);
  if (ctx.persistRecords) ctx.awaitDurable(ctx.store.deleteClient(client.id));
}

export function applyConnect(ctx: FsmContext, op: ConnectOp): OpResult {
  if (!/^[a-zA-Z0-9_-]+$/.test(op.clientId)) return failed(StanErrors.invalidClientId);
  if (op.hbInbox === '') return failed(StanErrors.invalidConnectRequest);
  const state = ctx.state;
  const existing = state.clients.get(op.clientId);
  const reassigned: Reassignment[] = [];
  if (existing !== undefined) {
    if (!op.replace) return failed(StanErrors.clientIdAlreadyRegistered);
    removeClient(ctx, existing, reassigned);
  }
  const client = clientRecordOf({ ...op, id: op.clientId });
  state.clients.set(client.id, client);
  if (client.connKey !== '') state.clientsByConnId.set(client.connKey, client);
  if (ctx.persistRecords) {
    ctx.awaitDurable(
      ctx.store.addClient({
        id: client.id,
        hbInbox: client.hbInbox,
        connId: client.connId,
        protocol: client.protocol,
        pingInterval: client.pingInterval,
        pingMaxOut: client.pingMaxOut,
      }),
    );
  }
  return { type: 'closed', error: '', reassigned };
}

export function applyDisconnect(ctx: FsmContext, op: DisconnectOp): OpResult {
  const client = ctx.state.clients.get(op.clientId);
  if (client === undefined) return failed(StanErrors.unknownClientId);
  const reassigned: Reassignment[] = [];
  removeClient(ctx, client, reassigned);
  return { type: 'closed', error: '', reassigned };
}
