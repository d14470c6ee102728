// Check 7 of docs/testing.md §5.5 on a cluster: no node logs an error, a panic, an assertion or
// corruption. A few error lines are known and harmless for safety; they are listed here with
// the reason, counted apart in the report and do not fail a run, so that a new error line stands
// out. A line naming corruption, a panic or an assertion is never excused.
export interface KnownLogIssue {
  readonly pattern: RegExp;
  readonly why: string;
}

// Empty for now: the last one (an ex-leader's refused delivery-progress batch logged at error level)
// is logged at debug level since the refusal is known not committed (src/server/progress.ts).
export const knownLogIssues: readonly KnownLogIssue[] = [];

const NEVER_EXCUSED = /panic|corrupt|assert/i;

export interface LogVerdict {
  readonly unexpected: readonly string[];
  readonly known: number;
  /** Lines logged after the harness damaged the node's files on purpose: its reaction, reported, never a failure. */
  readonly afterDamage: readonly string[];
}

/** `damagedSinceWallMs`: the node's files were damaged on purpose at that time (pino's `time` is compared). */
export function judgeLogLines(lines: readonly string[], damagedSinceWallMs?: number, excused: readonly KnownLogIssue[] = knownLogIssues): LogVerdict {
  const unexpected: string[] = [];
  const afterDamage: string[] = [];
  let known = 0;
  for (const line of lines) {
    const time = Number(/"time":(\d+)/.exec(line)?.[1] ?? 0);
    if (damagedSinceWallMs !== undefined && time >= damagedSinceWallMs) afterDamage.push(line);
    else if (!NEVER_EXCUSED.test(line) && excused.some((issue) => issue.pattern.test(line))) known++;
    else unexpected.push(line);
  }
  return { unexpected, known, afterDamage };
}
