// The reference server's wire error strings (docs/protocol.md §3.4), sent verbatim in replies: clients
// and their users match on these texts, so they must never change.
export const StanErrors = {
  invalidSubject: 'stan: invalid subject',
  invalidStartPosition: 'stan: invalid start position',
  invalidSubscription: 'stan: invalid subscription',
  clientIdAlreadyRegistered: 'stan: clientID already registered',
  clientIdMissing: 'stan: clientID missing',
  invalidClientId: 'stan: invalid clientID: only alphanumeric and `-` or `_` characters allowed',
  invalidAckWait: 'stan: invalid ack wait time, should be >= 1s',
  invalidMaxInFlight: 'stan: invalid MaxInflight, should be >= 1',
  invalidConnectRequest: 'stan: invalid connection request',
  invalidPublishRequest: 'stan: invalid publish request',
  invalidSubscriptionRequest: 'stan: invalid subscription request',
  invalidUnsubscribeRequest: 'stan: invalid unsubscribe request',
  invalidCloseRequest: 'stan: invalid close request',
  duplicateDurable: 'stan: duplicate durable registration',
  durableQueueNameColon: "stan: durable name of a durable queue subscriber can't contain the character ':'",
  unknownClientId: 'stan: unknown clientID',
  unknownChannel: 'stan: unknown channel',
  channelBeingDeleted: 'stan: channel is being deleted',
  tooManyChannels: 'too many channels',
  tooManySubscriptions: 'too many subscriptions per channel',
  clientReplaced: 'client has been replaced or is no longer registered',
} as const;
export type StanErrorText = (typeof StanErrors)[keyof typeof StanErrors];
