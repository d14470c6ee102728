// Membership, one server at a time (thesis ch. 4): a config-change entry carries the whole new
// configuration, takes effect as soon as it is in a node's log, and adjacent configurations
// differ by one server so their majorities overlap.
import type { ClusterConfig } from './messages.js';
import { RaftError, RaftErrorCode } from './errors.js';

export type ConfigChange =
  | { readonly type: 'addNonVoter'; readonly node: string }
  | { readonly type: 'addVoter'; readonly node: string }
  | { readonly type: 'remove'; readonly node: string };

export const emptyConfig: ClusterConfig = { voters: [], nonVoters: [] };

const nodeIdPattern = /^[A-Za-z0-9_-]+$/;

export function isMember(config: ClusterConfig, id: string): boolean {
  return config.voters.includes(id) || config.nonVoters.includes(id);
}

export function members(config: ClusterConfig): string[] {
  return [...config.voters, ...config.nonVoters];
}

/** The configuration after `change`; a change that does nothing or names a bad ID is refused. */
export function applyConfigChange(config: ClusterConfig, change: ConfigChange): ClusterConfig {
  if (!nodeIdPattern.test(change.node)) {
    throw new RaftError(RaftErrorCode.BadConfigChange, `node id ${JSON.stringify(change.node)} is not a valid node id`);
  }
  const voters = config.voters.filter((id) => id !== change.node);
  const nonVoters = config.nonVoters.filter((id) => id !== change.node);
  switch (change.type) {
    case 'addNonVoter':
      if (isMember(config, change.node)) {
        throw new RaftError(RaftErrorCode.BadConfigChange, `node ${change.node} is already a member`);
      }
      return { voters, nonVoters: [...nonVoters, change.node] };
    case 'addVoter':
      if (config.voters.includes(change.node)) {
        throw new RaftError(RaftErrorCode.BadConfigChange, `node ${change.node} is already a voter`);
      }
      return { voters: [...voters, change.node], nonVoters };
    case 'remove':
      if (!isMember(config, change.node)) {
        throw new RaftError(RaftErrorCode.UnknownNode, `node ${change.node} is not a member`);
      }
      if (voters.length === 0) {
        throw new RaftError(RaftErrorCode.BadConfigChange, `removing ${change.node} would leave no voter`);
      }
      return { voters, nonVoters };
  }
}

export function encodeConfig(config: ClusterConfig): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ voters: config.voters, nonVoters: config.nonVoters }));
}

export function decodeConfig(data: Uint8Array): ClusterConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
  } catch (cause) {
    throw new RaftError(RaftErrorCode.BadConfigChange, 'config-change entry is not valid JSON', { cause });
  }
  const record = parsed as { voters?: unknown; nonVoters?: unknown } | null;
  const voters = record?.voters;
  const nonVoters = record?.nonVoters;
  if (!isIdList(voters) || !isIdList(nonVoters)) {
    throw new RaftError(RaftErrorCode.BadConfigChange, 'config-change entry must hold voters and nonVoters lists of node ids');
  }
  return { voters, nonVoters };
}

function isIdList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((id) => typeof id === 'string' && nodeIdPattern.test(id));
}

export function sameConfig(a: ClusterConfig, b: ClusterConfig): boolean {
  return a.voters.join(',') === b.voters.join(',') && a.nonVoters.join(',') === b.nonVoters.join(',');
}
