// The effective configuration is logged at debug level; secrets in it must not reach the log.

import type { Options } from './options.js';

const hidden = '[redacted]';

function redactUrl(url: string): string {
  return url.replace(/(\/\/)([^@/]*)@/, `$1${hidden}@`);
}

/** A copy of `options` fit for logging: passwords, tokens and URL credentials replaced. */
export function redactOptions(options: Options): Options {
  return {
    ...options,
    nats: {
      ...options.nats,
      password: options.nats.password === '' ? '' : hidden,
      authToken: options.nats.authToken === '' ? '' : hidden,
    },
    routes: { ...options.routes, routes: options.routes.routes.map(redactUrl) },
    streaming: { ...options.streaming, natsServerUrl: options.streaming.natsServerUrl.split(',').map(redactUrl).join(',') },
  };
}
