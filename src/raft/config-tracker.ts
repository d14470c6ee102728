// Which configuration is in force: the latest config-change entry in the log (committed or not),
// else the one of the snapshot the log starts from. Truncating the log rolls it back.
import type { Entry } from './types.js';
import { EntryType } from './types.js';
import type { ClusterConfig } from './messages.js';
import { decodeConfig, emptyConfig } from './membership.js';

interface IndexedConfig {
  readonly index: number;
  readonly config: ClusterConfig;
}

export class ConfigTracker {
  private base: IndexedConfig;
  private readonly inLog: IndexedConfig[] = [];

  constructor(baseIndex = 0, baseConfig: ClusterConfig = emptyConfig) {
    this.base = { index: baseIndex, config: baseConfig };
  }

  current(): ClusterConfig {
    return (this.inLog[this.inLog.length - 1] ?? this.base).config;
  }

  /** Index of the latest config-change entry (the base's index when there is none). */
  latestIndex(): number {
    return (this.inLog[this.inLog.length - 1] ?? this.base).index;
  }

  /** The configuration in force at `index`, or undefined if it is older than what is tracked. */
  at(index: number): ClusterConfig | undefined {
    if (index < this.base.index) return undefined;
    let found = this.base;
    for (const item of this.inLog) {
      if (item.index > index) break;
      found = item;
    }
    return found.config;
  }

  /** Entries were written starting at entries[0].index, replacing whatever followed. */
  onAppend(entries: readonly Entry[]): void {
    const first = entries[0];
    if (!first) return;
    while ((this.inLog[this.inLog.length - 1]?.index ?? 0) >= first.index) this.inLog.pop();
    for (const entry of entries) {
      if (entry.type === EntryType.ConfigChange && entry.index > this.base.index) {
        this.inLog.push({ index: entry.index, config: decodeConfig(entry.data) });
      }
    }
  }

  /** A snapshot replaced the log. */
  restore(index: number, config: ClusterConfig): void {
    this.base = { index, config };
    this.inLog.length = 0;
  }
}
