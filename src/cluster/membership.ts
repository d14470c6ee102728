// Membership while serving. The leader answers, on the cluster's internal subjects:
// - `_STAN.raft.<cid>.join`: a node with no state and no founding peers asks to be added;
// - `_STAN.raft.<cid>.node.add` / `.node.remove` (with `--cluster_allow_add_remove_node`, as in
//   the reference): a node ID as payload, `+OK` or `-ERR <reason>` as answer.
// A node is added as a non-voter and promoted by the leader once it has caught up, one change at
// a time: a node that votes before it holds the committed log could elect a leader lacking it.
// These subjects are internal: only the nodes' own connections reach them (operators go through
// a node's monitoring port, which forwards the request).
import type { Logger } from '../util/logger.js';
import type { NatsConnection, NatsSubscription } from '../transport/nats/connection.js';
import { isValidNodeId } from '../transport/raft/node-id.js';
import { joinSubject, nodeAddSubject, nodeRemoveSubject } from './startup.js';

/** What membership needs of the Raft driver. */
export interface MembershipDriver {
  addNode(id: string): Promise<unknown>;
  removeNode(id: string): Promise<unknown>;
}

export interface MembershipOptions {
  readonly connection: NatsConnection;
  readonly clusterId: string;
  readonly driver: MembershipDriver;
  readonly allowAddRemove: boolean;
  readonly logger: Logger;
}

const OK = Buffer.from('+OK');
const JOIN_RETRY_MS = 1_000;
const JOIN_TIMEOUT_MS = 5_000;

function errorReply(text: string): Uint8Array {
  return Buffer.from(`-ERR ${text}`);
}

export class MembershipService {
  private subs: NatsSubscription[] = [];
  private stopped = false;

  constructor(private readonly options: MembershipOptions) {}

  /** This node leads: it answers membership requests. */
  lead(): void {
    if (this.subs.length > 0 || this.stopped) return;
    const { connection, clusterId, allowAddRemove } = this.options;
    this.subs.push(connection.subscribe(joinSubject(clusterId), (_s, reply, payload) => this.change('add', reply, payload)));
    if (allowAddRemove) {
      this.subs.push(
        connection.subscribe(nodeAddSubject(clusterId), (_s, reply, payload) => this.change('add', reply, payload)),
        connection.subscribe(nodeRemoveSubject(clusterId), (_s, reply, payload) => this.change('remove', reply, payload)),
      );
    }
  }

  /** This node follows: requests go to the leader instead. */
  follow(): void {
    for (const sub of this.subs) sub.unsubscribe();
    this.subs = [];
  }

  private change(kind: 'add' | 'remove', reply: string | undefined, payload: Uint8Array): void {
    const id = Buffer.from(payload).toString('utf8').trim();
    const answer = (bytes: Uint8Array): void => {
      if (reply !== undefined) this.options.connection.publish(reply, bytes);
    };
    if (!isValidNodeId(id)) {
      answer(errorReply(`invalid node ID ${JSON.stringify(id)}`));
      return;
    }
    const driver = this.options.driver;
    const pending = kind === 'add' ? driver.addNode(id) : driver.removeNode(id);
    pending.then(
      () => {
        this.options.logger.info({ node: id, change: kind }, kind === 'add' ? 'node added (a non-voter until it has caught up)' : 'node removed');
        answer(OK);
      },
      (error: unknown) => {
        const text = error instanceof Error ? error.message : String(error);
        // A node asking to join that is a member already (it lost its disk and rejoins): done.
        if (kind === 'add' && /already a (member|voter)/.test(text)) answer(OK);
        else answer(errorReply(text));
      },
    );
  }

  /** A node without state and without founding peers asks the leader to add it, until it is. */
  requestJoin(nodeId: string, keepTrying: () => boolean): void {
    const attempt = (): void => {
      if (this.stopped || !keepTrying()) return;
      const { connection, clusterId } = this.options;
      connection.request(joinSubject(clusterId), Buffer.from(nodeId), JOIN_TIMEOUT_MS, (error, reply) => {
        const text = reply === null ? '' : Buffer.from(reply).toString('utf8');
        if (error === null && text === '+OK') {
          this.options.logger.info({ nodeId }, 'joined the cluster: catching up before voting');
          return;
        }
        this.options.logger.info({ nodeId, error: error ?? text }, 'asking the leader to join: no answer yet');
        setTimeout(attempt, JOIN_RETRY_MS);
      });
    };
    attempt();
  }

  /** Asks the leader for a change, from any node (the monitoring port's admin requests). */
  requestChange(kind: 'add' | 'remove', nodeId: string): Promise<string> {
    const { connection, clusterId } = this.options;
    const subject = kind === 'add' ? nodeAddSubject(clusterId) : nodeRemoveSubject(clusterId);
    return new Promise((resolve) => {
      connection.request(subject, Buffer.from(nodeId), JOIN_TIMEOUT_MS, (error, reply) => {
        if (error !== null) resolve(`-ERR no leader answered (${error})`);
        else resolve(Buffer.from(reply ?? new Uint8Array(0)).toString('utf8'));
      });
    });
  }

  stop(): void {
    this.stopped = true;
    this.follow();
  }
}
