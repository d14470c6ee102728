// Which subjects are the nodes' own: the quick rejection on the publish path must agree with the
// plain prefix test for every subject, internal or not.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InternalSubjectPrefix, isInternalSubject } from '../../src/transport/nats/internal-subjects.js';

const prefixes = Object.values(InternalSubjectPrefix);
const byPrefix = (subject: string): boolean => prefixes.some((prefix) => subject.startsWith(prefix));

describe('isInternalSubject', () => {
  it('knows the Raft, fetch and internal inbox subjects, and nothing else of STAN', () => {
    for (const subject of ['_STAN.raft.c.a', '_STAN.raft.c.inbox.1', '_STAN.raft.c.join', '_STAN.fetch.c.x', '_STAN.raft.', '_STAN.raft.>']) {
      expect(isInternalSubject(subject), subject).toBe(true);
    }
    for (const subject of ['_STAN.pub.c.foo', '_STAN.ack.x', '_STAN.discover.c', '_INBOX.abc', 'foo', '', '_', '_STAN.', '_STAN.r', '_STAN.raft', '_STAN.rafts.x', '_STAN.f.x', '>', '_STAN.>']) {
      expect(isInternalSubject(subject), subject).toBe(false);
    }
  });

  it('agrees with the prefix test on any subject', () => {
    const near = fc.constantFrom('_STAN.', '_STAN.raft.', '_STAN.fetch.', '_STAN.r', '_STAN.f', '_INBOX.', '_', '');
    fc.assert(
      fc.property(near, fc.string({ maxLength: 12 }), (head, tail) => {
        const subject = head + tail;
        expect(isInternalSubject(subject)).toBe(byPrefix(subject));
      }),
      { numRuns: 2000 },
    );
  });
});
