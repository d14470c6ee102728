// Proves the parser yields the same operations whether a stream arrives whole, one byte at a
// time or split at random points, and that random bytes end in a parse error or nothing, never a throw.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ProtocolParser, ParseError, clientPayloadOps, routePayloadOps, splitArgs, type ParserSink } from '../../src/transport/nats/parser.js';

type Event = [string, ...unknown[]];

function collect(chunks: Buffer[], maxControlLineBytes = 4096): Event[] {
  const events: Event[] = [];
  const sink: ParserSink = {
    onControl: (op, rest) => events.push(['control', op, rest]),
    onMessage: (op, args, headerBytes, payload) => events.push(['message', op, [...args], headerBytes, Buffer.from(payload).toString('latin1')]),
    onParseError: (error) => events.push(['error', error]),
  };
  const parser = new ProtocolParser(sink, { maxControlLineBytes, maxPayloadBytes: 1024 * 1024 }, clientPayloadOps);
  for (const chunk of chunks) parser.parse(chunk);
  return events;
}

const stream = Buffer.from(
  'CONNECT {"verbose":false,"name":"a b"}\r\n' +
    'PING\r\nPONG\r\n' +
    'SUB foo.* 1\r\nSUB bar q 2\r\n' +
    'PUB foo.x 5\r\nhello\r\n' +
    'PUB foo.y reply.1 0\r\n\r\n' +
    'HPUB foo.z 12 17\r\nNATS/1.0\r\n\r\nworld\r\n' +
    'pub  lower\t3\r\n\r\n\r\r\n' +
    'UNSUB 1 10\r\n',
);

const expected: Event[] = [
  ['control', 'CONNECT', '{"verbose":false,"name":"a b"}'],
  ['control', 'PING', ''],
  ['control', 'PONG', ''],
  ['control', 'SUB', 'foo.* 1'],
  ['control', 'SUB', 'bar q 2'],
  ['message', 'PUB', ['foo.x'], 0, 'hello'],
  ['message', 'PUB', ['foo.y', 'reply.1'], 0, ''],
  ['message', 'HPUB', ['foo.z'], 12, 'NATS/1.0\r\n\r\nworld'],
  ['message', 'PUB', ['lower'], 0, '\r\n\r'],
  ['control', 'UNSUB', '1 10'],
];

function splitAt(buffer: Buffer, points: number[]): Buffer[] {
  const sorted = [...new Set(points.map((p) => p % (buffer.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of sorted) {
    chunks.push(buffer.subarray(start, point));
    start = point;
  }
  chunks.push(buffer.subarray(start));
  return chunks;
}

describe('ProtocolParser', () => {
  it('parses a stream of every client operation delivered whole', () => {
    expect(collect([stream])).toEqual(expected);
  });

  it('parses the same stream fed one byte at a time', () => {
    const bytes = [...stream].map((b) => Buffer.from([b]));
    expect(collect(bytes)).toEqual(expected);
  });

  it('parses the same stream split at random points', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 40 }), (points) => {
        expect(collect(splitAt(stream, points))).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses a payload larger than the limit before reading it', () => {
    const events: Event[] = [];
    const parser = new ProtocolParser(
      {
        onControl: () => events.push(['control']),
        onMessage: () => events.push(['message']),
        onParseError: (error) => events.push(['error', error]),
      },
      { maxControlLineBytes: 4096, maxPayloadBytes: 10 },
      clientPayloadOps,
    );
    parser.parse(Buffer.from('PUB a 11\r\n'));
    parser.parse(Buffer.from('PING\r\n'));
    expect(events).toEqual([['error', ParseError.PayloadTooLarge]]);
  });

  it('refuses a control line longer than the limit even when split', () => {
    const events = collect([Buffer.from('SUB '), Buffer.from('x'.repeat(50)), Buffer.from('y'.repeat(50))], 64);
    expect(events).toEqual([['error', ParseError.ControlLineTooLong]]);
  });

  it('refuses malformed sizes', () => {
    for (const line of ['PUB a\r\n', 'PUB a x\r\n', 'PUB a -1\r\n', 'HPUB a 5 3\r\n', 'PUB 3\r\n']) {
      expect(collect([Buffer.from(line)])).toEqual([['error', ParseError.BadPayloadSize]]);
    }
  });

  it('hands each frame its own args in an array it reuses, valid during the call', () => {
    const seen: Array<[string[], string[]]> = [];
    const parser = new ProtocolParser(
      {
        onControl: () => undefined,
        onMessage: (_op, args) => seen.push([args, [...args]]),
        onParseError: (error) => expect.fail(error),
      },
      { maxControlLineBytes: 4096, maxPayloadBytes: 1 << 20 },
      clientPayloadOps,
    );
    // The second payload straddles two reads, its args kept from one to the other.
    parser.parse(Buffer.from('PUB a.b r.1 2\r\nhi\r\nPUB c.d r.2 5\r\nhel'));
    parser.parse(Buffer.from('lo\r\nPUB e.f 0\r\n\r\nPUB g.h r.3 1\r\nx\r\n'));
    expect(seen.map(([, copy]) => copy)).toEqual([['a.b', 'r.1'], ['c.d', 'r.2'], ['e.f'], ['g.h', 'r.3']]);
    expect(seen[1]![0]).toBe(seen[0]![0]);
    expect(seen[3]![0]).toBe(seen[0]![0]);
  });

  it('keeps no array for long args lists (a route naming many queue groups)', () => {
    const seen: string[][] = [];
    const parser = new ProtocolParser(
      { onControl: () => undefined, onMessage: (_op, args) => seen.push(args), onParseError: (error) => expect.fail(error) },
      { maxControlLineBytes: 4096, maxPayloadBytes: 1 << 20 },
      routePayloadOps,
    );
    const queues = Array.from({ length: 6 }, (_, i) => `q${i}`).join(' ');
    parser.parse(Buffer.from(`RMSG $G foo | ${queues} 1\r\nx\r\nRMSG $G bar | ${queues} 1\r\ny\r\n`));
    expect(seen[0]).toEqual(['$G', 'foo', '|', 'q0', 'q1', 'q2', 'q3', 'q4', 'q5']);
    expect(seen[1]).toEqual(['$G', 'bar', '|', 'q0', 'q1', 'q2', 'q3', 'q4', 'q5']);
    expect(seen[1]).not.toBe(seen[0]);
  });

  it('parses route messages with queue names and headers', () => {
    const events: Event[] = [];
    const parser = new ProtocolParser(
      {
        onControl: (op, rest) => events.push(['control', op, rest]),
        onMessage: (op, args, headerBytes, payload) => events.push([op, args, headerBytes, Buffer.from(payload).toString()]),
        onParseError: (error) => events.push(['error', error]),
      },
      { maxControlLineBytes: 4096, maxPayloadBytes: 1 << 20 },
      routePayloadOps,
    );
    parser.parse(Buffer.from('RS+ $G foo q 1\r\nRMSG $G foo + r q1 q2 2\r\nhi\r\nHMSG $G bar 4 6\r\nhhhhbb\r\n'));
    expect(events).toEqual([
      ['control', 'RS+', '$G foo q 1'],
      ['RMSG', ['$G', 'foo', '+', 'r', 'q1', 'q2'], 0, 'hi'],
      ['HMSG', ['$G', 'bar'], 4, 'hhhhbb'],
    ]);
  });

  it('never throws on random bytes, and stops at the first error', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), (chunks) => {
        const events = collect(chunks.map((c) => Buffer.from(c)));
        const errorIndex = events.findIndex((e) => e[0] === 'error');
        if (errorIndex >= 0) expect(errorIndex).toBe(events.length - 1);
      }),
      { numRuns: 2000 },
    );
  });

  it('splits arguments on runs of spaces and tabs', () => {
    expect(splitArgs('  a \t b   c ')).toEqual(['a', 'b', 'c']);
    expect(splitArgs('')).toEqual([]);
  });
});
