// What a store tells a durability reporter: which file is durable through which length, and which
// file was renamed. A test hook, off unless a reporter is given (the CLI makes one only when
// TSTAN_FSYNC_LOG names a file, see src/cli/test-hooks.ts): a chaos harness simulates a power
// failure by cutting every file back to its last reported length (docs/testing.md §5.3). A report is
// made after the fsync completed and before anything that depends on it goes on.
export interface DurabilityReporter {
  /** An fsync covering the first `length` bytes of `path` has completed. */
  synced(path: string, length: number): void;
  /** The files of LevelDB directory `directory` whose lengths are durable now (after a synced write). */
  syncedLevelDb(directory: string): void;
  /** `from` now has the name `to`. */
  renamed(from: string, to: string): void;
}
