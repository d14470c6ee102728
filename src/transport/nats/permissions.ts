// A connected user's permissions, applied as nats-server 2.9 applies them: a publish is allowed
// when an allow pattern matches its subject (or there is no allow list) and no deny pattern does;
// a subscription when every subject it can match lies within an allow pattern and no deny pattern
// matches it; a wildcard subscription that overlaps a denied subject is allowed but never
// receives messages on it. (nats-server 2.9 lets `*` in an allow pattern cover a `>` in the
// subscription; here it does not: `foo.*` does not allow subscribing to `foo.>`.) With `allow_responses`, the reply subject of a
// message the user received may be published to (once, for two minutes, by default).
// One instance per connection: it caches verdicts per subject and tracks replies.
import type { ResponseRules, SubjectRules, UserPermissions } from './auth-settings.js';
import { subjectMatches } from './subject.js';

/** Cached verdicts per connection (nats-server keeps 128). */
const verdictCacheEntriesMax = 128;
/** Replies tracked per connection for `allow_responses` (nats-server's replyPermLimit). */
const repliesTrackedMax = 4096;

function matchesAny(patterns: readonly string[], subject: string): boolean {
  for (const pattern of patterns) if (subjectMatches(pattern, subject)) return true;
  return false;
}

function allowedBy(rules: SubjectRules, subject: string): boolean {
  if (rules.allow !== null && !matchesAny(rules.allow, subject)) return false;
  return !matchesAny(rules.deny, subject);
}

/** Whether every subject the subscription `subject` matches is matched by `pattern`. */
export function isWithin(subject: string, pattern: string): boolean {
  const subjectTokens = subject.split('.');
  const patternTokens = pattern.split('.');
  for (let i = 0; i < subjectTokens.length; i++) {
    const want = patternTokens[i];
    if (want === undefined) return false;
    if (want === '>') return true;
    const have = subjectTokens[i]!;
    if (have === '>') return false;
    if (want !== '*' && (have === '*' || want !== have)) return false;
  }
  return subjectTokens.length === patternTokens.length;
}

function hasWildcard(subject: string): boolean {
  return subject === '*' || subject === '>' || subject.endsWith('.>') || subject.endsWith('.*') || subject.includes('.*.') || subject.startsWith('*.');
}

interface TrackedReply {
  readonly atMs: number;
  count: number;
}

export class ClientPermissions {
  private readonly publishVerdicts = new Map<string, boolean>();
  private readonly deliveryVerdicts = new Map<string, boolean>();
  private readonly replies = new Map<string, TrackedReply>();
  /** Set once a wildcard subscription overlaps a denied subject: deliveries are then filtered. */
  private filteringDeliveries = false;

  constructor(
    private readonly permissions: UserPermissions,
    private readonly nowMs: () => number = Date.now,
  ) {}

  get responses(): ResponseRules | null {
    return this.permissions.responses;
  }

  canPublish(subject: string): boolean {
    const rules = this.permissions.publish;
    if (rules === null) return true;
    let allowed = this.publishVerdicts.get(subject);
    if (allowed === undefined) {
      allowed = allowedBy(rules, subject);
      if (this.publishVerdicts.size >= verdictCacheEntriesMax) this.publishVerdicts.clear();
      this.publishVerdicts.set(subject, allowed);
    }
    return allowed || this.takeReply(subject);
  }

  /** `subject` is the subscription's, wildcards and all. */
  canSubscribe(subject: string): boolean {
    const rules = this.permissions.subscribe;
    if (rules === null) return true;
    if (rules.allow !== null && !rules.allow.some((pattern) => isWithin(subject, pattern))) return false;
    if (matchesAny(rules.deny, subject)) return false;
    // A wildcard may still reach a denied subject: from now on deliveries are checked.
    if (rules.deny.length > 0 && hasWildcard(subject)) this.filteringDeliveries = true;
    return true;
  }

  /** Whether a message on the literal `subject` must not reach this user's subscriptions. */
  deliveryDenied(subject: string): boolean {
    if (!this.filteringDeliveries) return false;
    let denied = this.deliveryVerdicts.get(subject);
    if (denied === undefined) {
      denied = matchesAny(this.permissions.subscribe?.deny ?? [], subject);
      if (this.deliveryVerdicts.size >= verdictCacheEntriesMax) this.deliveryVerdicts.clear();
      this.deliveryVerdicts.set(subject, denied);
    }
    return denied;
  }

  /** A message with a reply subject reached this user: with allow_responses, it may answer. */
  noteRequest(reply: string): void {
    if (this.permissions.responses === null) return;
    if (this.replies.size >= repliesTrackedMax) this.pruneReplies();
    this.replies.set(reply, { atMs: this.nowMs(), count: 0 });
  }

  private takeReply(subject: string): boolean {
    const rules = this.permissions.responses;
    const tracked = rules === null ? undefined : this.replies.get(subject);
    if (rules === null || tracked === undefined) return false;
    tracked.count++;
    if ((rules.maxMsgs > 0 && tracked.count > rules.maxMsgs) || (rules.expiresMs > 0 && this.nowMs() - tracked.atMs > rules.expiresMs)) {
      this.replies.delete(subject);
      return false;
    }
    return true;
  }

  /** Drops expired replies, then the oldest until there is room. */
  private pruneReplies(): void {
    const expiresMs = this.permissions.responses?.expiresMs ?? 0;
    const now = this.nowMs();
    if (expiresMs > 0) for (const [reply, tracked] of this.replies) if (now - tracked.atMs > expiresMs) this.replies.delete(reply);
    for (const reply of this.replies.keys()) {
      if (this.replies.size < repliesTrackedMax) break;
      this.replies.delete(reply);
    }
  }
}
