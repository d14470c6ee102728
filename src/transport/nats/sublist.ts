// The subscription index: a trie over subject tokens with `*` and `>` branches, and a bounded
// cache of match results. Every inbox subject is unique, so the cache must be bounded; it stays
// correct as subscriptions change by dropping the cached subjects a changed pattern matches.
import { subjectMatches } from './subject.js';

export interface IndexedSubscription {
  readonly subject: string;
  /** Queue group name, or '' for a plain subscription. */
  readonly queue: string;
}

export interface MatchResult<S extends IndexedSubscription> {
  readonly plain: readonly S[];
  /** One array of members per queue group. */
  readonly queues: readonly (readonly S[])[];
}

class TrieNode<S extends IndexedSubscription> {
  readonly literals = new Map<string, TrieNode<S>>();
  partialWildcard: TrieNode<S> | null = null;
  fullWildcard: TrieNode<S> | null = null;
  readonly plain = new Set<S>();
  readonly queues = new Map<string, Set<S>>();

  isEmpty(): boolean {
    return (
      this.literals.size === 0 &&
      this.partialWildcard === null &&
      this.fullWildcard === null &&
      this.plain.size === 0 &&
      this.queues.size === 0
    );
  }
}

/**
 * Keeps some subscriptions from the matches of some subjects (clients from the nodes' internal
 * subjects). Applied when a match is computed, before it is cached: a cached match costs nothing more.
 */
export interface MatchFilter<S extends IndexedSubscription> {
  /** Whether the matches of the literal `subject` are filtered. */
  restricts(subject: string): boolean;
  /** Whether `subscription` may receive a message on a restricted subject. */
  admits(subscription: S): boolean;
}

export interface SublistStats {
  subscriptions: number;
  cacheEntries: number;
  inserts: number;
  removes: number;
  matches: number;
  cacheHits: number;
  maxFanout: number;
  totalFanout: number;
}

const emptyResult: MatchResult<never> = Object.freeze({ plain: [], queues: [] });

export class Sublist<S extends IndexedSubscription> {
  private readonly root = new TrieNode<S>();
  private readonly cache = new Map<string, MatchResult<S>>();
  private count = 0;
  private readonly counters = { inserts: 0, removes: 0, matches: 0, cacheHits: 0, maxFanout: 0, totalFanout: 0 };

  constructor(
    private readonly cacheEntriesMax: number,
    private readonly filter: MatchFilter<S> | null = null,
  ) {}

  get size(): number {
    return this.count;
  }

  insert(subscription: S): void {
    let node = this.root;
    for (const token of subscription.subject.split('.')) {
      node = this.child(node, token);
    }
    if (subscription.queue === '') {
      if (node.plain.has(subscription)) return;
      node.plain.add(subscription);
    } else {
      let members = node.queues.get(subscription.queue);
      if (!members) node.queues.set(subscription.queue, (members = new Set()));
      if (members.has(subscription)) return;
      members.add(subscription);
    }
    this.count++;
    this.counters.inserts++;
    this.invalidate(subscription.subject);
  }

  remove(subscription: S): boolean {
    const path: TrieNode<S>[] = [this.root];
    const tokens = subscription.subject.split('.');
    let node: TrieNode<S> | null = this.root;
    for (const token of tokens) {
      node = this.existingChild(node, token);
      if (!node) return false;
      path.push(node);
    }
    let removed: boolean;
    if (subscription.queue === '') {
      removed = node.plain.delete(subscription);
    } else {
      const members = node.queues.get(subscription.queue);
      removed = members?.delete(subscription) ?? false;
      if (members && members.size === 0) node.queues.delete(subscription.queue);
    }
    if (!removed) return false;
    this.count--;
    this.counters.removes++;
    this.prune(path, tokens);
    this.invalidate(subscription.subject);
    return true;
  }

  match(subject: string): MatchResult<S> {
    this.counters.matches++;
    const cached = this.cache.get(subject);
    if (cached) {
      this.counters.cacheHits++;
      return cached;
    }
    const plain: S[] = [];
    const queueMembers = new Map<string, S[]>();
    this.collect(this.root, subject.split('.'), 0, plain, queueMembers);
    if (this.filter !== null && this.filter.restricts(subject)) this.applyFilter(this.filter, plain, queueMembers);
    const result: MatchResult<S> =
      plain.length === 0 && queueMembers.size === 0 ? emptyResult : { plain, queues: [...queueMembers.values()] };
    const fanout = plain.length + queueMembers.size;
    this.counters.totalFanout += fanout;
    if (fanout > this.counters.maxFanout) this.counters.maxFanout = fanout;
    if (this.cacheEntriesMax > 0) {
      if (this.cache.size >= this.cacheEntriesMax) {
        const oldest = this.cache.keys().next();
        if (!oldest.done) this.cache.delete(oldest.value);
      }
      this.cache.set(subject, result);
    }
    return result;
  }

  /** Whether any subscription matches; cheaper than `match` for a no-responders check. */
  hasInterest(subject: string): boolean {
    const result = this.match(subject);
    return result.plain.length > 0 || result.queues.length > 0;
  }

  stats(): SublistStats {
    return { subscriptions: this.count, cacheEntries: this.cache.size, ...this.counters };
  }

  /** Every subscription, for monitoring and for re-announcing interest. */
  all(): S[] {
    const out: S[] = [];
    const walk = (node: TrieNode<S>): void => {
      for (const sub of node.plain) out.push(sub);
      for (const members of node.queues.values()) for (const sub of members) out.push(sub);
      for (const child of node.literals.values()) walk(child);
      if (node.partialWildcard) walk(node.partialWildcard);
      if (node.fullWildcard) walk(node.fullWildcard);
    };
    walk(this.root);
    return out;
  }

  private child(node: TrieNode<S>, token: string): TrieNode<S> {
    if (token === '*') return (node.partialWildcard ??= new TrieNode<S>());
    if (token === '>') return (node.fullWildcard ??= new TrieNode<S>());
    let next = node.literals.get(token);
    if (!next) node.literals.set(token, (next = new TrieNode<S>()));
    return next;
  }

  private existingChild(node: TrieNode<S>, token: string): TrieNode<S> | null {
    if (token === '*') return node.partialWildcard;
    if (token === '>') return node.fullWildcard;
    return node.literals.get(token) ?? null;
  }

  private prune(path: TrieNode<S>[], tokens: string[]): void {
    for (let depth = tokens.length; depth > 0; depth--) {
      const node = path[depth]!;
      if (!node.isEmpty()) return;
      const parent = path[depth - 1]!;
      const token = tokens[depth - 1]!;
      if (token === '*') parent.partialWildcard = null;
      else if (token === '>') parent.fullWildcard = null;
      else parent.literals.delete(token);
    }
  }

  private collect(node: TrieNode<S>, tokens: string[], depth: number, plain: S[], queues: Map<string, S[]>): void {
    if (node.fullWildcard && depth < tokens.length) this.addAll(node.fullWildcard, plain, queues);
    if (depth === tokens.length) {
      this.addAll(node, plain, queues);
      return;
    }
    const literal = node.literals.get(tokens[depth]!);
    if (literal) this.collect(literal, tokens, depth + 1, plain, queues);
    if (node.partialWildcard) this.collect(node.partialWildcard, tokens, depth + 1, plain, queues);
  }

  private applyFilter(filter: MatchFilter<S>, plain: S[], queues: Map<string, S[]>): void {
    let kept = 0;
    for (const sub of plain) if (filter.admits(sub)) plain[kept++] = sub;
    plain.length = kept;
    for (const [queue, members] of queues) {
      const admitted = members.filter((member) => filter.admits(member));
      if (admitted.length === 0) queues.delete(queue);
      else queues.set(queue, admitted);
    }
  }

  private addAll(node: TrieNode<S>, plain: S[], queues: Map<string, S[]>): void {
    for (const sub of node.plain) plain.push(sub);
    for (const [queue, members] of node.queues) {
      let list = queues.get(queue);
      if (!list) queues.set(queue, (list = []));
      for (const sub of members) list.push(sub);
    }
  }

  private invalidate(pattern: string): void {
    if (this.cache.size === 0) return;
    const literal = !pattern.includes('*') && !pattern.includes('>');
    if (literal) {
      this.cache.delete(pattern);
      return;
    }
    for (const subject of this.cache.keys()) {
      if (subjectMatches(pattern, subject)) this.cache.delete(subject);
    }
  }
}
