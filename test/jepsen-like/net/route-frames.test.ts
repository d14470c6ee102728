// Proves the route frame splitter gives back exactly the frames of a NATS route stream, whatever
// the chunking (one byte at a time, random split points, one chunk): control lines and messages
// (RMSG with and without reply, HMSG, LMSG, payloads that hold CRLF) with their subjects, and
// that the frames put together are the stream, so passing frames through never alters a byte.
import { describe, expect, it } from 'vitest';
import { RouteFrameSplitter, type RouteFrame } from './route-frames.js';
import { seededRandom } from '../random.js';

const frames = [
  'INFO {"server_id":"x","cluster":"c"}\r\n',
  'PING\r\n',
  'RS+ $G _STAN.raft.jepsen.a\r\n',
  'RMSG $G _STAN.raft.jepsen.a 5\r\nhello\r\n',
  'RMSG $G _STAN.pub.c0 _INBOX.1 12\r\nab\r\ncd\r\nefgh\r\n',
  'HMSG $G orders + _INBOX.2 q1 4 10\r\nHD\r\nbody12\r\n',
  'LMSG origin $G x.y 0\r\n\r\n',
  'PONG\r\n',
];
const stream = Buffer.from(frames.join(''), 'latin1');

function split(chunks: Buffer[]): RouteFrame[] {
  const splitter = new RouteFrameSplitter();
  const out: RouteFrame[] = [];
  for (const chunk of chunks) splitter.push(chunk, (frame) => out.push({ ...frame, bytes: Buffer.from(frame.bytes) }));
  return out;
}

function expectFrames(out: RouteFrame[]): void {
  expect(out.map((f) => Buffer.from(f.bytes).toString('latin1'))).toEqual(frames);
  expect(out.map((f) => f.kind)).toEqual(['control', 'control', 'control', 'message', 'message', 'message', 'message', 'control']);
  expect(out.filter((f) => f.kind === 'message').map((f) => f.subject)).toEqual(['_STAN.raft.jepsen.a', '_STAN.pub.c0', 'orders', 'x.y']);
}

describe('route frame splitter', () => {
  it('splits a stream given in one chunk', () => {
    expectFrames(split([stream]));
  });

  it('splits a stream given one byte at a time', () => {
    expectFrames(split([...stream].map((byte) => Buffer.of(byte))));
  });

  it('splits a stream cut at random points (200 seeds)', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const random = seededRandom(seed);
      const chunks: Buffer[] = [];
      let at = 0;
      while (at < stream.length) {
        const n = 1 + random.int(40);
        chunks.push(stream.subarray(at, at + n));
        at += n;
      }
      expectFrames(split(chunks));
    }
  });

  it('passes what it cannot parse through unchanged instead of dropping it', () => {
    const odd = Buffer.from('RMSG $G subject notasize\r\nrest of the stream', 'latin1');
    const out = split([odd.subarray(0, 10), odd.subarray(10)]);
    expect(Buffer.concat(out.map((f) => Buffer.from(f.bytes))).toString('latin1')).toBe(odd.toString('latin1'));
    expect(out.every((f) => f.kind === 'control')).toBe(true);
  });
});
