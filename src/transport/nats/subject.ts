// Subject rules of NATS: dot-separated non-empty tokens without white space; `*` matches one
// token and `>` the rest, each only as a whole token (and `>` only last) in subscriptions.

function hasWhitespace(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 12) return true;
  }
  return false;
}

/** A subject a subscription may use: wildcards allowed as whole tokens. */
export function isValidSubscribeSubject(subject: string): boolean {
  if (subject.length === 0 || hasWhitespace(subject)) return false;
  const tokens = subject.split('.');
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.length === 0) return false;
    if (token.length > 1 && (token.includes('>') || token.includes('*'))) {
      // Wildcard characters inside a longer token are literal in nats-server; allow them.
      continue;
    }
    if (token === '>' && i !== tokens.length - 1) return false;
  }
  return true;
}

/** A literal subject a message may be published to: no wildcard tokens. */
export function isValidPublishSubject(subject: string): boolean {
  if (!isValidSubscribeSubject(subject)) return false;
  for (const token of subject.split('.')) if (token === '*' || token === '>') return false;
  return true;
}

/** Whether the literal `subject` matches `pattern` (which may hold wildcards). */
export function subjectMatches(pattern: string, subject: string): boolean {
  let p = 0;
  let s = 0;
  for (;;) {
    const pEnd = pattern.indexOf('.', p);
    const sEnd = subject.indexOf('.', s);
    const pToken = pattern.slice(p, pEnd < 0 ? pattern.length : pEnd);
    if (pToken === '>') return true; // one or more tokens remain: the caller reached a token start
    const sToken = subject.slice(s, sEnd < 0 ? subject.length : sEnd);
    if (pToken !== '*' && pToken !== sToken) return false;
    if (pEnd < 0 || sEnd < 0) return pEnd < 0 && sEnd < 0;
    p = pEnd + 1;
    s = sEnd + 1;
  }
}
