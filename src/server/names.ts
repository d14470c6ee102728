// Client ID and channel name rules of the reference server (docs/protocol.md §3.3). Channel names are
// checked by the store's own rule so that the server and every store agree.
import { isValidChannelName } from '../store/limits.js';

const CLIENT_ID = /^[a-zA-Z0-9_-]+$/;

export function isValidClientId(clientId: string): boolean {
  return CLIENT_ID.test(clientId);
}

/** A literal channel: no wildcard tokens, no empty tokens, no `/` (a directory name in FILE). */
export function isValidChannel(channel: string): boolean {
  return isValidChannelName(channel, false);
}
