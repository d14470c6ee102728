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
  let secured: TLSSocket | null = null;
  let done = false;
  const finish = (reason: string | null): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    raw.removeListener('data', onFirstBytes);
    raw.removeListener('close', onEarlyClose);
    if (reason === null && secured !== null) {
      secured.removeAllListeners('error');
      secured.removeAllListeners('close');
      outcome.onSecure(secured);
      return;
    }
    outcome.onFailed(reason ?? 'TLS handshake failed');
  };
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
    const socket = tls.acceptSocket(raw);
    secured = socket;
    socket.once('secure', () => {
      const refusal = tls.settings.verify ? peerRefusal(socket) : null;
      if (refusal !== null) {
        socket.destroy();
        finish(`TLS handshake error: ${refusal}`);
        return;
      }
      finish(null);
    });
    socket.on('error', (error: Error) => {
      socket.destroy();
      finish(`TLS handshake error: ${error.message}`);
    });
    socket.once('close', () => finish('TLS handshake error: connection closed during the handshake'));
  };
  const timer = setTimeout(() => {
    if (secured === null) {
      refusePlaintext('TLS handshake timeout');
      return;
    }
    secured.destroy();
    finish('TLS handshake timeout');
  }, tls.settings.timeoutMs);
  timer.unref();
  raw.on('error', () => undefined);
  raw.on('data', onFirstBytes);
  raw.once('close', onEarlyClose);
  return {
    cancel: () => {
      (secured ?? raw).destroy();
      finish('server shutdown');
    },
  };
}

/** Why a client's certificate is not accepted, or null when it is. */
function peerRefusal(socket: TLSSocket): string | null {
  if (socket.authorized) return null;
  const certificate = socket.getPeerCertificate();
  if (certificate === null || Object.keys(certificate).length === 0) return 'the client presented no certificate';
  return `client certificate not trusted (${String(socket.authorizationError)})`;
}
