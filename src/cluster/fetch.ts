// Message fetch between nodes: a node restored from a snapshot (which carries no payloads) gets
// the messages its store lacks from ANY peer that holds them — not only the leader, so that a
// cluster never wedges waiting for one node. Every node answers on `_STAN.fetch.<cid>.<node>`
// with what its store holds of a channel incarnation (identity checked), in bounded replies; the
// fetching node walks its peers in turn, in bounded batches, and retries with backoff until it
// has the range or learns the messages are gone everywhere (dropped by limits since).
import { Packr } from 'msgpackr';
import type { Logger } from '../util/logger.js';
import type { NatsConnection, NatsSubscription } from '../transport/nats/connection.js';
import { InternalSubjectPrefix } from '../transport/nats/internal-subjects.js';
import { decodeMsgProto, encodeMsgProto } from '../store/records.js';
import type { MsgProto } from '../store/types.js';
import { NOT_LOADED } from '../store/types.js';
import type { StreamingState } from '../fsm/records.js';
import { TstanError } from '../util/errors.js';

const packr = new Packr({ useRecords: false, mapsAsObjects: true });

/** Reply bytes kept well under max_payload (the MsgProto framing adds a little per message). */
const REPLY_BYTES_FRACTION = 0.75;

export function fetchSubject(clusterId: string, nodeId: string): string {
  return `${InternalSubjectPrefix.fetch}${clusterId}.${nodeId}`;
}

interface FetchRequest {
  readonly channel: string;
  readonly channelId: number;
  readonly from: number;
  readonly to: number;
}

/** What a peer answered: the messages it holds from `from` on, and where its channel starts. */
interface FetchReply {
  /** 'ok', or 'unknown' when the peer has no such incarnation of the channel (yet, or any more). */
  readonly status: 'ok' | 'unknown';
  /** First sequence the peer still holds (messages below it were dropped by limits). */
  readonly first: number;
  /** Last sequence the peer has applied for the channel. */
  readonly last: number;
  readonly msgs: readonly Uint8Array[];
}

/** Answers fetch requests from the records and store of this node. */
export class FetchServer {
  private subscription: NatsSubscription | undefined;

  constructor(
    private readonly connection: NatsConnection,
    private readonly subject: string,
    private readonly state: () => StreamingState,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.subscription = this.connection.subscribe(this.subject, (_subject, reply, payload) => {
      if (reply === undefined) return;
      this.answer(reply, payload).catch((error: unknown) => this.logger.warn({ err: error }, 'answering a message fetch failed'));
    });
  }

  private async answer(reply: string, payload: Uint8Array): Promise<void> {
    const request = decodeRequest(payload);
    if (request === undefined) return;
    const channel = this.state().channels.get(request.channel);
    if (channel === undefined || channel.id !== request.channelId) {
      this.connection.publish(reply, packr.pack(['unknown', 0, 0, []]));
      return;
    }
    const msgs = channel.store.msgs;
    const first = msgs.state().msgs > 0 ? msgs.firstSequence() : channel.lastSeq + 1;
    const budget = Math.floor(this.connection.maxPayloadBytes * REPLY_BYTES_FRACTION);
    const out: Uint8Array[] = [];
    let bytes = 0;
    for (let seq = Math.max(request.from, first); seq <= Math.min(request.to, channel.lastSeq); seq++) {
      let msg = msgs.lookupSync(seq);
      if (msg === NOT_LOADED) msg = await msgs.lookup(seq);
      if (msg === undefined) continue;
      const encoded = encodeMsgProto(msg);
      if (out.length > 0 && bytes + encoded.length > budget) break;
      out.push(encoded);
      bytes += encoded.length;
    }
    this.connection.publish(reply, packr.pack(['ok', first, channel.lastSeq, out]));
  }

  stop(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }
}

function decodeRequest(payload: Uint8Array): FetchRequest | undefined {
  try {
    const value: unknown = packr.unpack(payload);
    if (!Array.isArray(value) || value.length !== 4) return undefined;
    const [channel, channelId, from, to] = value as unknown[];
    if (typeof channel !== 'string' || ![channelId, from, to].every((n) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0)) return undefined;
    return { channel, channelId: channelId as number, from: from as number, to: to as number };
  } catch {
    return undefined;
  }
}

function decodeReply(payload: Uint8Array | null): FetchReply | undefined {
  if (payload === null) return undefined;
  try {
    const value: unknown = packr.unpack(payload);
    if (!Array.isArray(value) || value.length !== 4) return undefined;
    const [status, first, last, msgs] = value as unknown[];
    if ((status !== 'ok' && status !== 'unknown') || typeof first !== 'number' || typeof last !== 'number' || !Array.isArray(msgs)) return undefined;
    if (!msgs.every((m) => m instanceof Uint8Array)) return undefined;
    return { status, first, last, msgs: msgs as Uint8Array[] };
  } catch {
    return undefined;
  }
}

export interface FetchClientOptions {
  readonly connection: NatsConnection;
  readonly clusterId: string;
  /** The nodes to ask, this one excluded; read at each attempt (membership changes). */
  readonly peers: () => readonly string[];
  readonly requestTimeoutMs?: number;
  /** Pause between rounds over every peer; doubles up to 5 s. */
  readonly retryDelayMs?: number;
  /** Rounds over every peer before giving up (0: retry until stopped). */
  readonly rounds?: number;
  readonly logger: Logger;
  /** Told how the fetch is going, for logs and /streaming/serverz. */
  readonly onProgress?: (status: string) => void;
}

/** Fetches [from, to] of a channel incarnation from the peers; returns the messages that exist. */
export class FetchClient {
  private stopped = false;

  constructor(private readonly options: FetchClientOptions) {}

  stop(): void {
    this.stopped = true;
  }

  async fetch(channel: string, channelId: number, from: number, to: number): Promise<MsgProto[]> {
    const out: MsgProto[] = [];
    let next = from;
    let delayMs = this.options.retryDelayMs ?? 250;
    for (let round = 1; next <= to; round++) {
      const before = next;
      for (const peer of this.options.peers()) {
        if (next > to || this.stopped) break;
        const reply = await this.ask(peer, { channel, channelId, from: next, to });
        if (reply === undefined || reply.status !== 'ok') continue;
        const got = reply.msgs.map((bytes) => decodeMsgProto(bytes)).filter((m) => m.sequence >= next && m.sequence <= to);
        got.sort((a, b) => a.sequence - b.sequence);
        out.push(...got);
        const lastGot = got.length > 0 ? got[got.length - 1]!.sequence : next - 1;
        // Nothing the peer holds below its first: dropped by limits (on every node, in log order).
        if (got.length === 0 && reply.first > next && reply.last >= to) next = Math.min(to + 1, reply.first);
        else next = Math.max(next, lastGot + 1);
      }
      if (next > to) break;
      if (this.stopped) throw new TstanError('FETCH_STOPPED', `fetching ${channel} ${from}..${to} was stopped`);
      const rounds = this.options.rounds ?? 0;
      if (rounds > 0 && round >= rounds) {
        throw new TstanError('FETCH_FAILED', `no peer could supply messages ${next}..${to} of channel ${channel}`);
      }
      if (next === before) {
        this.options.onProgress?.(`fetching messages ${next}..${to} of channel ${channel}: no peer has them yet (round ${round})`);
        this.options.logger.warn({ channel, from: next, to, round }, 'no peer could supply the messages yet; retrying');
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        delayMs = Math.min(delayMs * 2, 5_000);
      }
    }
    return out;
  }

  private ask(peer: string, request: FetchRequest): Promise<FetchReply | undefined> {
    const payload = packr.pack([request.channel, request.channelId, request.from, request.to]);
    return new Promise((resolve) => {
      this.options.connection.request(fetchSubject(this.options.clusterId, peer), payload, this.options.requestTimeoutMs ?? 2_000, (error, reply) => {
        resolve(error === null ? decodeReply(reply) : undefined);
      });
    });
  }
}
