// Majority arithmetic, kept pure so that property tests can check it against a model.

/** The highest index that a majority of `voters` have reached (0 when there are no voters). */
export function committedIndex(voters: readonly string[], matchOf: (id: string) => number): number {
  if (voters.length === 0) return 0;
  const matches = voters.map(matchOf).sort((a, b) => b - a);
  return matches[Math.floor(voters.length / 2)] ?? 0;
}

export const VoteResult = { Pending: 'pending', Won: 'won', Lost: 'lost' } as const;
export type VoteResult = (typeof VoteResult)[keyof typeof VoteResult];

/** The outcome of an election from the votes received so far. */
export function tallyVotes(voters: readonly string[], votes: ReadonlyMap<string, boolean>): VoteResult {
  let granted = 0;
  let rejected = 0;
  for (const id of voters) {
    const vote = votes.get(id);
    if (vote === true) granted++;
    else if (vote === false) rejected++;
  }
  const majority = Math.floor(voters.length / 2) + 1;
  if (granted >= majority) return VoteResult.Won;
  if (voters.length - rejected < majority) return VoteResult.Lost;
  return VoteResult.Pending;
}

/** Whether the voters marked active make up a majority. */
export function quorumActive(voters: readonly string[], isActive: (id: string) => boolean): boolean {
  let active = 0;
  for (const id of voters) if (isActive(id)) active++;
  return active >= Math.floor(voters.length / 2) + 1;
}
