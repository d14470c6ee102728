// A lean STAN client for benchmarks: the STAN protobuf messages over LeanNatsConnection, with no
// Promise, closure or string per message, so that it measures the server rather than itself.
// Publishes go out as pre-built frames in which only the GUID's counter and the payload change; a
// PubAck is matched to its publish by that counter (parsed from the GUID's bytes), and reported to
// one handler per client. Deliveries are decoded in place and acknowledged with a pre-built Ack.
// The control messages (connect, subscribe, close, ping) use the server's own protocol codec: they
// are few, and sharing the codec keeps field numbers in one place. No reconnect, no PubAck timeout:
// a benchmark run that loses its connection fails as a whole.
import { StanCodec, type ConnectResponse } from '../src/server/protocol.js';
import { varintSize, writeVarint } from '../src/store/proto-wire.js';
import { Nuid } from '../src/util/nuid.js';
import { LeanNatsConnection } from './lean-nats-connection.js';

/** A PubAck for publish number `index`; `error` is '' on success. */
export type PubAckHandler = (index: number, error: string) => void;
/** A delivery: the data is `buf[start, end)`, valid only during the call. */
export type DeliveryHandler = (seq: number, buf: Buffer, start: number, end: number, redelivered: boolean) => void;

export interface LeanStanOptions {
  readonly url: string;
  readonly clusterId: string;
  readonly clientId: string;
  readonly timeoutMs?: number;
}

export interface LeanSubscribeOptions {
  /** StartPosition First (deliver all available) instead of NewOnly. */
  readonly deliverAllAvailable?: boolean;
  readonly maxInFlight?: number;
  readonly ackWaitSec?: number;
}

/** GUID = 12 characters unique to the connection + the publish number in 10 decimal digits. */
const GUID_PREFIX_BYTES = 12;
const GUID_COUNTER_BYTES = 10;
const GUID_BYTES = GUID_PREFIX_BYTES + GUID_COUNTER_BYTES;
const START_POSITION_FIRST = 4;
const PING_INTERVAL_SEC = 5;
const PING_MAX_OUT = 3;
const codec = new StanCodec();

/** Bytes of a protobuf length-delimited field: tag, length, value. */
function bytesField(field: number, value: Uint8Array): Buffer {
  const out = Buffer.alloc(1 + varintSize(value.length) + value.length);
  out[0] = (field << 3) | 2;
  out.set(value, writeVarint(out, 1, value.length));
  return out;
}

export class LeanStanClient {
  /** Every PubAck of this connection, in arrival order. */
  onPubAck: PubAckHandler = () => {};
  /** A lost connection or a refused ping; the client is unusable afterwards. */
  onError: (error: Error) => void = () => {};
  published = 0;
  private readonly nuid = new Nuid();
  private readonly guidPrefix: Buffer;
  private readonly connId: Buffer;
  private readonly ackInbox: string;
  private response: ConnectResponse | null = null;
  private pingTimer: NodeJS.Timeout | null = null;

  private constructor(
    readonly conn: LeanNatsConnection,
    readonly options: LeanStanOptions,
  ) {
    this.guidPrefix = Buffer.from(this.nuid.next().slice(0, GUID_PREFIX_BYTES), 'latin1');
    this.connId = Buffer.from(this.nuid.next(), 'latin1');
    this.ackInbox = `_STAN.acks.${this.nuid.next()}`;
    conn.onError = (error) => this.fail(error);
  }

  static async connect(options: LeanStanOptions): Promise<LeanStanClient> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const conn = await LeanNatsConnection.connect(options.url, options.clientId, timeoutMs);
    const client = new LeanStanClient(conn, options);
    const heartbeatInbox = `_INBOX.${client.nuid.next()}`;
    conn.subscribe(heartbeatInbox, (_buf, _start, _end, reply) => {
      if (reply !== '') conn.publish(reply, '', new Uint8Array(0));
    });
    conn.subscribe(client.ackInbox, (buf, start, end) => client.onPubAckFrame(buf, start, end));
    const request = codec.encode('ConnectRequest', {
      clientID: options.clientId,
      heartbeatInbox,
      protocol: 1,
      connID: client.connId,
      pingInterval: PING_INTERVAL_SEC,
      pingMaxOut: PING_MAX_OUT,
    });
    const reply = await client.request(`_STAN.discover.${options.clusterId}`, request, timeoutMs);
    const response = codec.decodeResponse('ConnectResponse', reply);
    if (response.error !== '') {
      await conn.close();
      throw new Error(`connect refused: ${response.error}`);
    }
    client.response = response;
    client.startPings();
    return client;
  }

  /** A publisher of `channel`: each publish() returns the publish number its PubAck will carry. */
  publisher(channel: string): LeanPublisher {
    return new LeanPublisher(this, channel, this.guidPrefix, this.connId, this.ackInbox);
  }

  /** Subscribes with auto-ack; `onMessage` may start receiving before the promise settles. */
  async subscribe(channel: string, options: LeanSubscribeOptions, onMessage: DeliveryHandler): Promise<void> {
    const inbox = `_INBOX.${this.nuid.next()}`;
    const acker = new Acker(this.conn, channel);
    this.conn.subscribe(inbox, (buf, start, end) => {
      const seq = acker.deliver(buf, start, end, onMessage);
      if (seq >= 0) acker.ack(seq);
    });
    const request = codec.encode('SubscriptionRequest', {
      clientID: this.options.clientId,
      subject: channel,
      inbox,
      maxInFlight: options.maxInFlight ?? 1024,
      ackWaitInSecs: options.ackWaitSec ?? 30,
      startPosition: options.deliverAllAvailable === true ? START_POSITION_FIRST : 0,
    });
    // The ack inbox must be known before the first delivery is parsed, which may be in the same
    // read as the response: it is set in the reply handler itself, not after an await.
    const reply = await this.request(this.connected.subRequests, request, this.timeoutMs, (bytes) => {
      const response = codec.decodeResponse('SubscriptionResponse', bytes);
      if (response.error === '') acker.setAckInbox(response.ackInbox);
    });
    const response = codec.decodeResponse('SubscriptionResponse', reply);
    if (response.error !== '') throw new Error(`subscribe refused: ${response.error}`);
  }

  /** Sends CloseRequest, waits for its answer, closes the socket. */
  async close(): Promise<void> {
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    this.pingTimer = null;
    try {
      const request = codec.encode('CloseRequest', { clientID: this.options.clientId });
      const reply = await this.request(this.connected.closeRequests, request, this.timeoutMs);
      const response = codec.decodeResponse('CloseResponse', reply);
      if (response.error !== '') throw new Error(`close refused: ${response.error}`);
    } finally {
      this.conn.onError = () => {};
      await this.conn.close();
    }
  }

  /** The ConnectResponse: set before connect() resolves. */
  private get connected(): ConnectResponse {
    if (this.response === null) throw new Error('not connected');
    return this.response;
  }

  /** Where publishes go: `<pubPrefix>.<channel>`. */
  get pubPrefix(): string {
    return this.connected.pubPrefix;
  }

  private get timeoutMs(): number {
    return this.options.timeoutMs ?? 10_000;
  }

  private fail(error: Error): void {
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    this.pingTimer = null;
    this.onError(error);
  }

  /** A request on a one-shot inbox; `onReply` runs synchronously as the reply is parsed. */
  private request(subject: string, payload: Uint8Array, timeoutMs: number, onReply?: (bytes: Buffer) => void): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const inbox = `_INBOX.${this.nuid.next()}`;
      const timer = setTimeout(() => {
        this.conn.forget(sid);
        reject(new Error(`no reply on ${subject} within ${timeoutMs} ms`));
      }, timeoutMs);
      const sid = this.conn.subscribe(inbox, (buf, start, end) => {
        clearTimeout(timer);
        this.conn.forget(sid);
        const bytes = Buffer.from(buf.subarray(start, end));
        onReply?.(bytes);
        resolve(bytes);
      });
      this.conn.unsubscribe(sid, 1);
      this.conn.publish(subject, inbox, payload);
    });
  }

  private startPings(): void {
    const subject = this.connected.pingRequests;
    if (subject === '' || this.connected.protocol < 1) return;
    const pingInbox = `_INBOX.${this.nuid.next()}`;
    let outstanding = 0;
    this.conn.subscribe(pingInbox, (buf, start, end) => {
      outstanding = 0;
      const response = codec.decodeResponse('PingResponse', buf.subarray(start, end));
      if (response.error !== '') this.fail(new Error(`ping refused: ${response.error}`));
    });
    const ping = codec.encode('Ping', { connID: this.connId });
    this.pingTimer = setInterval(() => {
      if (++outstanding > PING_MAX_OUT) this.fail(new Error('server stopped answering pings'));
      else this.conn.publish(subject, pingInbox, ping);
    }, PING_INTERVAL_SEC * 1000);
    this.pingTimer.unref();
  }

  /** PubAck{guid=1, error=2}: the publish number is the GUID's last ten digits. */
  private onPubAckFrame(buf: Buffer, start: number, end: number): void {
    let pos = start;
    let index = -1;
    let error = '';
    while (pos < end) {
      const key = buf[pos++]!;
      let length = 0;
      let scale = 1;
      let byte: number;
      do {
        byte = buf[pos++]!;
        length += (byte & 0x7f) * scale;
        scale *= 128;
      } while (byte >= 0x80 && pos < end);
      if ((key & 7) !== 2) return; // PubAck has only strings: anything else is not ours
      if (key === 0x0a && length === GUID_BYTES) {
        index = 0;
        for (let i = pos + GUID_PREFIX_BYTES; i < pos + GUID_BYTES; i++) index = index * 10 + buf[i]! - 48;
      } else if (key === 0x12) {
        error = buf.toString('utf8', pos, pos + length);
      }
      pos += length;
    }
    if (index >= 0) this.onPubAck(index, error);
  }
}

/** Writes PUB frames for one channel; only the GUID counter and the data differ between them. */
export class LeanPublisher {
  /** PUB line and PubMsg fields up to the GUID counter; rebuilt when the data length changes. */
  private head = Buffer.alloc(0);
  /** Fields from the channel up to the data's length prefix. */
  private middle = Buffer.alloc(0);
  /** The connection ID field and the frame's CRLF. */
  private readonly tail: Buffer;
  private dataBytes = -1;

  constructor(
    private readonly client: LeanStanClient,
    private readonly channel: string,
    private readonly guidPrefix: Buffer,
    connId: Buffer,
    private readonly ackInbox: string,
  ) {
    this.tail = Buffer.concat([bytesField(6, connId), Buffer.from('\r\n')]);
  }

  /** Publishes `data`; returns its publish number, which the PubAck handler will see. */
  publish(data: Uint8Array): number {
    if (data.length !== this.dataBytes) this.build(data.length);
    const index = this.client.published++;
    const conn = this.client.conn;
    let pos = conn.reserve(this.head.length + GUID_COUNTER_BYTES + this.middle.length + data.length + this.tail.length);
    const out = conn.outBuffer;
    out.set(this.head, pos);
    pos += this.head.length;
    let value = index;
    for (let i = pos + GUID_COUNTER_BYTES - 1; i >= pos; i--) {
      out[i] = 48 + (value % 10);
      value = Math.floor(value / 10);
    }
    pos += GUID_COUNTER_BYTES;
    out.set(this.middle, pos);
    pos += this.middle.length;
    out.set(data, pos);
    pos += data.length;
    out.set(this.tail, pos);
    conn.commit(pos + this.tail.length);
    return index;
  }

  private build(dataBytes: number): void {
    const options = this.client.options;
    const clientId = bytesField(1, Buffer.from(options.clientId));
    const guidStart = Buffer.concat([Buffer.from([(2 << 3) | 2, GUID_BYTES]), this.guidPrefix]);
    const subject = bytesField(3, Buffer.from(this.channel));
    const dataPrefix = Buffer.alloc(1 + varintSize(dataBytes));
    dataPrefix[0] = (5 << 3) | 2;
    writeVarint(dataPrefix, 1, dataBytes);
    const protoBytes = clientId.length + guidStart.length + GUID_COUNTER_BYTES + subject.length + dataPrefix.length + dataBytes + this.tail.length - 2;
    const pubSubject = `${this.client.pubPrefix}.${this.channel}`;
    this.head = Buffer.concat([Buffer.from(`PUB ${pubSubject} ${this.ackInbox} ${protoBytes}\r\n`), clientId, guidStart]);
    this.middle = Buffer.concat([subject, dataPrefix]);
    this.dataBytes = dataBytes;
  }
}

/** Decodes deliveries of one subscription and writes their Acks. */
class Acker {
  private head = Buffer.alloc(0);
  /** Ack{subject=channel} up to the sequence's tag. */
  private readonly body: Buffer;

  constructor(
    private readonly conn: LeanNatsConnection,
    channel: string,
  ) {
    this.body = Buffer.concat([bytesField(1, Buffer.from(channel)), Buffer.from([(2 << 3) | 0])]);
    if (this.body.length > 900) throw new Error(`channel name too long for the lean client: ${channel}`);
  }

  setAckInbox(ackInbox: string): void {
    this.head = Buffer.from(`PUB ${ackInbox} `);
  }

  /** MsgProto{sequence=1, data=4, redelivered=6}: hands the data to `onMessage`; returns the sequence. */
  deliver(buf: Buffer, start: number, end: number, onMessage: DeliveryHandler): number {
    let pos = start;
    let seq = -1;
    let dataStart = start;
    let dataEnd = start;
    let redelivered = false;
    while (pos < end) {
      const key = buf[pos++]!;
      const wire = key & 7;
      if (wire === 0 || wire === 2) {
        let value = 0;
        let scale = 1;
        let byte: number;
        do {
          byte = buf[pos++]!;
          value += (byte & 0x7f) * scale;
          scale *= 128;
        } while (byte >= 0x80 && pos < end);
        if (wire === 2) {
          if (key === 0x22) {
            dataStart = pos;
            dataEnd = pos + value;
          }
          pos += value;
        } else if (key === 0x08) seq = value;
        else if (key === 0x30) redelivered = value !== 0;
      } else if (wire === 1) pos += 8;
      else if (wire === 5) pos += 4;
      else return -1;
    }
    if (seq < 0) return -1;
    onMessage(seq, buf, dataStart, dataEnd, redelivered);
    return seq;
  }

  ack(seq: number): void {
    const protoBytes = this.body.length + varintSize(seq);
    let pos = this.conn.reserve(this.head.length + 3 + 2 + protoBytes + 2);
    const out = this.conn.outBuffer;
    out.set(this.head, pos);
    pos += this.head.length;
    // The length in decimal without a string: an Ack is always shorter than 1000 bytes here.
    if (protoBytes >= 100) out[pos++] = 48 + Math.floor(protoBytes / 100);
    if (protoBytes >= 10) out[pos++] = 48 + (Math.floor(protoBytes / 10) % 10);
    out[pos++] = 48 + (protoBytes % 10);
    out[pos++] = 13;
    out[pos++] = 10;
    out.set(this.body, pos);
    pos = writeVarint(out, pos + this.body.length, seq);
    out[pos++] = 13;
    out[pos++] = 10;
    this.conn.commit(pos);
  }
}
