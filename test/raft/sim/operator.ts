// The simulated operator's membership changes, one server at a time: remove a voter (the
// leader included), re-add a removed node as a non-voter, promote it once it has caught up.
import type { SimNode } from './sim-node.js';
import type { Rng } from './rng.js';

const votersMin = 2;

/** Ask the leader for the next change; returns a description, or undefined if none was made. */
export function applyMembershipStep(leader: SimNode, ids: readonly string[], rng: Rng): string | undefined {
  const config = leader.raft.status().config;
  const outside = ids.filter((id) => !config.voters.includes(id) && !config.nonVoters.includes(id));
  try {
    const nonVoter = config.nonVoters[0];
    if (nonVoter !== undefined) {
      leader.raft.proposeConfigChange({ type: 'addVoter', node: nonVoter });
      leader.drive();
      return `promote ${nonVoter} via ${leader.id}`;
    }
    const joiner = outside[0];
    if (joiner !== undefined && (config.voters.length <= votersMin || rng.chance(0.6))) {
      leader.raft.proposeConfigChange({ type: 'addNonVoter', node: joiner });
      leader.drive();
      return `add non-voter ${joiner} via ${leader.id}`;
    }
    if (config.voters.length > votersMin) {
      const victim = rng.pick(config.voters);
      leader.raft.proposeConfigChange({ type: 'remove', node: victim });
      leader.drive();
      return `remove ${victim} via ${leader.id}`;
    }
  } catch (error) {
    if (!(error as { code?: string }).code?.startsWith('RAFT_')) throw error;
  }
  return undefined;
}
