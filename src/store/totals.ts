// Store-wide message and byte totals, summed over channels the same way by every store.
import type { MsgStoreState } from './types.js';

export function sumChannelStates(channels: Iterable<{ readonly msgs: { state(): MsgStoreState } }>): MsgStoreState {
  let msgs = 0;
  let bytes = 0;
  for (const channel of channels) {
    const state = channel.msgs.state();
    msgs += state.msgs;
    bytes += state.bytes;
  }
  return { msgs, bytes };
}
