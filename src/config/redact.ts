// Secrets must reach no log line, /varz, `-t` output or error message: passwords, tokens, the
// users' passwords, the encryption key, and credentials written into URLs (routes, -ns). The
// effective configuration is logged at debug level through redactOptions(); a reload reports a
// changed secret without its values (isSecretPath).

import type { Options } from './options.js';
import { redactUrlCredentials } from '../transport/nats/url-credentials.js';

const hidden = '[redacted]';

function redactSecret(secret: string): string {
  return secret === '' ? '' : hidden;
}

/** A copy of `options` fit for logging: passwords, tokens, the encryption key and URL credentials replaced. */
export function redactOptions(options: Options): Options {
  return {
    ...options,
    nats: {
      ...options.nats,
      password: redactSecret(options.nats.password),
      authToken: redactSecret(options.nats.authToken),
      users: options.nats.users.map((entry) => ({ ...entry, password: redactSecret(entry.password) })),
    },
    routes: { ...options.routes, routes: options.routes.routes.map(redactUrlCredentials), password: redactSecret(options.routes.password) },
    streaming: {
      ...options.streaming,
      natsServerUrl: redactUrlCredentials(options.streaming.natsServerUrl),
      natsClient: {
        ...options.streaming.natsClient,
        password: redactSecret(options.streaming.natsClient.password),
        token: redactSecret(options.streaming.natsClient.token),
      },
      encryptionKey: redactSecret(options.streaming.encryptionKey),
    },
  };
}

/** Whether the option at `path` (as reload.ts names them) holds a secret. */
export function isSecretPath(path: string): boolean {
  return /(^|\.)(password|authToken|token|encryptionKey)$/.test(path) || /^(nats\.users|routes\.routes|streaming\.natsServerUrl)(\.|$)/.test(path);
}
