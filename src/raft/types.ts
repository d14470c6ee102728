// Shapes shared by the Raft core, its storage and its transport. The core owns the rest of its
// types; these few are here so that storage and core agree on them from the start.

export const EntryType = {
  /** An application proposal (a batch of STAN operations). */
  Normal: 0,
  /** A membership change (add voter, add non-voter, remove). */
  ConfigChange: 1,
  /** Appended by a new leader to commit entries of earlier terms. */
  Noop: 2,
} as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

export interface Entry {
  readonly index: number;
  readonly term: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/** What must be durable before a node may vote or acknowledge: Raft's persistent state. */
export interface HardState {
  readonly term: number;
  /** Node ID voted for in `term`, or '' for none. */
  readonly vote: string;
  readonly commit: number;
}
