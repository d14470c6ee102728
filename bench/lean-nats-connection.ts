// The NATS text protocol over one raw net.Socket, for the lean benchmark client: no per-message
// Promise, closure or string. Incoming MSG frames are parsed in place (the subject is skipped, the
// handler is found by sid and gets a view of the payload); outgoing frames are written straight into
// a slab buffer that goes to the socket once per event-loop turn, or when it fills.
import { connect as netConnect, type Socket } from 'node:net';

/** A delivered payload is `buf[start, end)`, valid only during the call; `reply` is '' when absent. */
export type MsgHandler = (buf: Buffer, start: number, end: number, reply: string) => void;

const SPACE = 0x20;
const CRLF = Buffer.from('\r\n');
const SLAB_BYTES = 1 << 20;

export class LeanNatsConnection {
  /** Called once for a protocol error or a lost socket; the connection is unusable afterwards. */
  onError: (error: Error) => void = () => {};
  private out: Buffer = Buffer.allocUnsafe(SLAB_BYTES);
  /** out[flushed, written) is waiting for the next flush; what lies before went to the socket. */
  private flushed = 0;
  private written = 0;
  private flushScheduled = false;
  /** The start of a frame that straddles two reads. */
  private partial: Buffer | null = null;
  private readonly handlers: Array<MsgHandler | undefined> = [];
  private nextSid = 1;
  private readonly pongWaiters: Array<() => void> = [];
  private infoWaiter: (() => void) | null = null;
  private failed: Error | null = null;
  private readonly flushBound = (): void => {
    this.flushScheduled = false;
    this.flushNow();
  };

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('connection closed')));
  }

  /** Connects, sends CONNECT and waits for the server's PONG. */
  static async connect(url: string, name: string, timeoutMs: number): Promise<LeanNatsConnection> {
    const { hostname, port } = new URL(url);
    const socket = netConnect({ host: hostname, port: Number(port) || 4222 });
    const conn = new LeanNatsConnection(socket);
    const timer = setTimeout(() => conn.fail(new Error(`no NATS handshake from ${url} within ${timeoutMs} ms`)), timeoutMs);
    try {
      await new Promise<void>((resolve, reject) => {
        conn.infoWaiter = resolve;
        conn.onError = reject;
      });
      const options = { verbose: false, pedantic: false, protocol: 1, name, lang: 'tstan-bench', version: '1', headers: false };
      conn.writeText(`CONNECT ${JSON.stringify(options)}\r\n`);
      await conn.flush();
    } finally {
      clearTimeout(timer);
      conn.onError = () => {};
    }
    return conn;
  }

  /** Subscribes `handler` to `subject`; returns the sid. */
  subscribe(subject: string, handler: MsgHandler): number {
    const sid = this.nextSid++;
    this.handlers[sid] = handler;
    this.writeText(`SUB ${subject} ${sid}\r\n`);
    return sid;
  }

  /** Drops the handler of `sid` after `max` more messages are asked for by the server (UNSUB). */
  unsubscribe(sid: number, max?: number): void {
    if (max === undefined) this.handlers[sid] = undefined;
    this.writeText(max === undefined ? `UNSUB ${sid}\r\n` : `UNSUB ${sid} ${max}\r\n`);
  }

  forget(sid: number): void {
    this.handlers[sid] = undefined;
  }

  /** A PUB of `payload` (control path: builds a string header). */
  publish(subject: string, reply: string, payload: Uint8Array): void {
    const head = reply === '' ? `PUB ${subject} ${payload.length}\r\n` : `PUB ${subject} ${reply} ${payload.length}\r\n`;
    const pos = this.reserve(Buffer.byteLength(head) + payload.length + 2);
    let end = pos + this.out.write(head, pos);
    this.out.set(payload, end);
    end += payload.length;
    this.out[end++] = 13;
    this.out[end++] = 10;
    this.commit(end);
  }

  /** Resolves when the server has processed everything written before (PING/PONG). */
  flush(): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve) => {
      this.pongWaiters.push(resolve);
      this.writeText('PING\r\n');
    });
  }

  // ----------------------------------------------------------------------------------------
  // Writing. The hot path writes frames itself: reserve(n) gives an offset in `outBuffer` with n
  // bytes free, the caller fills them and calls commit(end).

  get outBuffer(): Buffer {
    return this.out;
  }

  reserve(bytes: number): number {
    if (this.written + bytes > this.out.length) {
      this.flushNow();
      // The socket still holds the old slab's bytes: start a new one instead of reusing it.
      this.out = Buffer.allocUnsafe(Math.max(SLAB_BYTES, bytes));
      this.flushed = 0;
      this.written = 0;
    }
    return this.written;
  }

  commit(end: number): void {
    this.written = end;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushBound);
    }
  }

  writeText(text: string): void {
    const pos = this.reserve(Buffer.byteLength(text));
    this.commit(pos + this.out.write(text, pos));
  }

  flushNow(): void {
    if (this.written === this.flushed || this.failed) return;
    this.socket.write(this.out.subarray(this.flushed, this.written));
    this.flushed = this.written;
  }

  async close(): Promise<void> {
    this.flushNow();
    if (this.failed) return;
    this.failed = new Error('connection closed by the client');
    await new Promise<void>((resolve) => this.socket.end(resolve));
    this.socket.destroy();
  }

  // ----------------------------------------------------------------------------------------
  // Reading

  private fail(error: Error): void {
    if (this.failed) return;
    this.failed = error;
    this.socket.destroy();
    this.onError(error);
  }

  private onData(chunk: Buffer): void {
    const buf = this.partial === null ? chunk : Buffer.concat([this.partial, chunk]);
    this.partial = null;
    const length = buf.length;
    let pos = 0;
    while (pos < length) {
      const eol = buf.indexOf(CRLF, pos);
      if (eol < 0) break;
      if (buf[pos] === 0x4d /* MSG */) {
        const next = this.onMsg(buf, pos, eol);
        if (next < 0) break;
        pos = next;
        continue;
      }
      this.onControl(buf.toString('latin1', pos, eol));
      pos = eol + 2;
    }
    if (pos < length) this.partial = buf.subarray(pos);
  }

  /** MSG <subject> <sid> [reply] <size>: returns the position after the frame, or -1 if incomplete. */
  private onMsg(buf: Buffer, pos: number, eol: number): number {
    let p = pos + 4;
    while (p < eol && buf[p] !== SPACE) p++;
    p++;
    let sid = 0;
    while (p < eol && buf[p] !== SPACE) sid = sid * 10 + buf[p++]! - 48;
    p++;
    let q = p;
    while (q < eol && buf[q] !== SPACE) q++;
    let reply = '';
    if (q < eol) {
      reply = buf.toString('latin1', p, q);
      p = q + 1;
    }
    let size = 0;
    while (p < eol) size = size * 10 + buf[p++]! - 48;
    const start = eol + 2;
    const end = start + size;
    if (end + 2 > buf.length) return -1;
    const handler = this.handlers[sid];
    if (handler !== undefined) handler(buf, start, end, reply);
    return end + 2;
  }

  private onControl(line: string): void {
    if (line === 'PING') {
      this.writeText('PONG\r\n');
    } else if (line === 'PONG') {
      this.pongWaiters.shift()?.();
    } else if (line.startsWith('INFO ')) {
      const waiter = this.infoWaiter;
      this.infoWaiter = null;
      waiter?.();
    } else if (line.startsWith('-ERR')) {
      this.fail(new Error(`NATS server: ${line}`));
    }
  }
}
