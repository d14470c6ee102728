// nats-server's TLS start for a client: the INFO goes out in plain text (the caller writes it,
// with tls_required), then the client opens a TLS handshake on the same socket. What comes first
// from the client decides: a TLS record (0x16) is handed to Node's TLS layer; anything else is a
// plaintext client, told `-ERR 'Secure Connection - TLS Required'` in plain text and dropped. The
// whole handshake, from the INFO on, has the `timeout` of the tls block; a peer certificate, when
// `verify` asks for one, must be trusted.
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { LoadedTls } from './tls-context.js';

/** nats-server's text for a client that does not start TLS on a port that requires it. */
export const tlsRequiredError = 'Secure Connection - TLS Required';

/** A TLS record of type handshake starts with this byte. */
const handshakeRecordType = 0x16;

export interface HandshakeOutcome {
  /** The secured socket, ready for the client connection. */
  onSecure(socket: TLSSocket): void;
  /** The handshake failed or timed out; the socket is already closed. `reason` is for the log. */
  onFailed(reason: string): void;
}

export interface PendingHandshake {
  /** Stops waiting and closes the socket (server shutdown). */
  cancel(): void;
}

export function secureClientSocket(raw: Socket, tls: LoadedTls, outcome: HandshakeOutcome): PendingHandshake {
  let handshaking = false;
  let done = false;
  const finish = (reason: string): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    raw.removeListener('data', onFirstBytes);
    raw.removeListener('close', onEarlyClose);
    tls.forget(raw);
    if (secured !== null) {
      outcome.onSecure(secured);
      return;
    }
    outcome.onFailed(reason);
  };
  let secured: TLSSocket | null = null;
  const refusePlaintext = (reason: string): void => {
    raw.end(`-ERR '${tlsRequiredError}'\r\n`);
    raw.setTimeout(tls.settings.timeoutMs, () => raw.destroy());
    finish(reason);
  };
  const onEarlyClose = (): void => finish('connection closed before the TLS handshake');
  const onFirstBytes = (chunk: Buffer): void => {
    raw.removeListener('data', onFirstBytes);
    if (chunk[0] !== handshakeRecordType) {
      refusePlaintext('TLS handshake error: the client did not start TLS (first record does not look like a TLS handshake)');
      return;
    }
    raw.pause();
    raw.unshift(chunk);
    handshaking = true;
    tls.accept(raw, (socket, failure) => {
      secured = socket;
      finish(`TLS handshake error: ${failure}`);
    });
  };
  const timer = setTimeout(() => {
    if (!handshaking) {
      refusePlaintext('TLS handshake timeout');
      return;
    }
    raw.destroy();
    finish('TLS handshake timeout');
  }, tls.settings.timeoutMs);
  timer.unref();
  raw.on('error', () => undefined);
  raw.on('data', onFirstBytes);
  raw.once('close', onEarlyClose);
  return {
    cancel: () => {
      raw.destroy();
      finish('server shutdown');
    },
  };
}
