// The effective configuration is logged at debug level; secrets in it must not reach the log.

import type { Options } from './options.js';

export const hidden = '[redacted]';

function redactUrl(url: string): string {
  return url.replace(/(\/\/)([^@/]*)@/, `$1${hidden}@`);
}

/** Options paths holding secrets: never shown, whether in the effective configuration or a reload's changes. */
export const secretOptionPaths: ReadonlySet<string> = new Set(['nats.password', 'nats.authToken', 'streaming.encryptionKey']);

/** A copy of `options` fit for logging: passwords, tokens, the encryption key and URL credentials replaced. */
export function redactOptions(options: Options): Options {
  return {
    ...options,
    nats: {
      ...options.nats,
      password: options.nats.password === '' ? '' : hidden,
      authToken: options.nats.authToken === '' ? '' : hidden,
    },
    routes: { ...options.routes, routes: options.routes.routes.map(redactUrl) },
    streaming: {
      ...options.streaming,
      natsServerUrl: options.streaming.natsServerUrl.split(',').map(redactUrl).join(','),
      encryptionKey: options.streaming.encryptionKey === '' ? '' : hidden,
    },
  };
}

/** A value found at `path` of Options, with URL credentials replaced where that path holds URLs. */
export function redactUrlsIn(path: string, value: unknown): unknown {
  if (path === 'routes.routes' && Array.isArray(value)) return value.map((url) => (typeof url === 'string' ? redactUrl(url) : url));
  if (path === 'streaming.natsServerUrl' && typeof value === 'string') return value.split(',').map(redactUrl).join(',');
  return value;
}
