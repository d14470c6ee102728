// A TLS setting turned into something that can secure sockets: the certificate, key and CA files
// read once, Node's secure context built once, and the two ways a socket becomes a TLS socket
// here (the server side of a client or route we accepted, the client side of a route we dial).
// node:tls is imported only by loadTls(), so a node without TLS never loads it.
import { isIP, type Socket } from 'node:net';
import type { SecureContext, Server as TlsServer, TLSSocket } from 'node:tls';
import { ConfigError } from '../../util/errors.js';
import { opensslCiphers, opensslCurves, type TlsSettings } from './tls-settings.js';

type TlsModule = typeof import('node:tls');

/** What Node's TLS server calls and https.createServer take, without a context of their own. */
export interface TlsServerOptions {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca?: Buffer;
  readonly ciphers?: string;
  readonly ecdhCurve?: string;
  readonly minVersion: 'TLSv1.2';
}

/** The outcome of the server side of a handshake: the secured socket, or why there is none. */
export type AcceptOutcome = (secured: TLSSocket | null, failure: string) => void;

function peerKey(socket: Socket): string {
  return `${socket.remoteAddress ?? ''}|${socket.remotePort ?? 0}`;
}

export class LoadedTls {
  readonly secureContext: SecureContext;
  /**
   * Node's TLS server, never listening: sockets we accepted (after nats-server's plain-text INFO,
   * or a route's first byte) are handed to it, so that Node judges the peer's certificate.
   */
  private readonly acceptor: TlsServer;
  /** Handshakes under way, by the peer's address and port. */
  private readonly accepting = new Map<string, AcceptOutcome>();

  constructor(
    tls: TlsModule,
    readonly settings: TlsSettings,
    readonly serverOptions: TlsServerOptions,
  ) {
    this.tls = tls;
    this.secureContext = tls.createSecureContext(serverOptions);
    this.acceptor = tls.createServer({
      ...serverOptions,
      requestCert: settings.verify,
      // Judged here, so that the log says why a peer was refused.
      rejectUnauthorized: false,
      handshakeTimeout: settings.timeoutMs,
    });
    this.acceptor.on('secureConnection', (socket: TLSSocket) => this.settle(socket, null));
    this.acceptor.on('tlsClientError', (error: Error, socket: TLSSocket) => this.settle(socket, error.message));
  }

  private readonly tls: TlsModule;

  /** The server side of a handshake over `raw`; `done` is called once, unless forget(raw) comes first. */
  accept(raw: Socket, done: AcceptOutcome): void {
    this.accepting.set(peerKey(raw), done);
    this.acceptor.emit('connection', raw);
  }

  /** The caller gave up on `raw` (timeout, shutdown): its outcome is no longer wanted. */
  forget(raw: Socket): void {
    this.accepting.delete(peerKey(raw));
  }

  private settle(socket: TLSSocket, failure: string | null): void {
    const key = peerKey(socket);
    const done = this.accepting.get(key);
    if (done === undefined) {
      socket.destroy();
      return;
    }
    this.accepting.delete(key);
    const refusal = failure ?? (this.settings.verify ? peerRefusal(socket) : null);
    if (refusal !== null) {
      socket.destroy();
      done(null, refusal);
      return;
    }
    done(socket, '');
  }

  /**
   * The client side over a socket we dialled to `host`: our certificate offered, the peer's
   * verified against the CA file (or the system's) and `host`, unless `insecure`.
   */
  dialSocket(raw: Socket, host: string): TLSSocket {
    return this.tls.connect({
      socket: raw,
      secureContext: this.secureContext,
      // SNI takes host names only; the identity check takes either.
      ...(isIP(host) === 0 ? { servername: host } : {}),
      checkServerIdentity: (_name, certificate) => this.tls.checkServerIdentity(host, certificate),
      rejectUnauthorized: !this.settings.insecure,
      minVersion: 'TLSv1.2',
    });
  }
}

/** Why a peer's certificate is not accepted, or null when it is. */
function peerRefusal(socket: TLSSocket): string | null {
  if (socket.authorized) return null;
  const certificate = socket.getPeerCertificate();
  if (certificate === null || Object.keys(certificate).length === 0) return 'the peer presented no certificate';
  return `peer certificate not trusted (${String(socket.authorizationError)})`;
}

async function readPem(path: string, what: string, purpose: string): Promise<Buffer> {
  const { readFile } = await import('node:fs/promises');
  try {
    return await readFile(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new ConfigError(`TLS for ${purpose}: cannot read the ${what} "${path}": ${reason}`, { cause: error });
  }
}

/**
 * Reads the files of `settings` and builds the context. Throws ConfigError naming the file and
 * what is wrong with it, for `tstan -t` and start-up alike. `purpose` says whose TLS it is
 * (`clients`, `routes`, `the NATS server`).
 */
export async function loadTls(settings: TlsSettings, purpose: string): Promise<LoadedTls> {
  if (settings.certFile === '') throw new ConfigError(`TLS for ${purpose}: TLS Server certificate must be present and valid`);
  if (settings.keyFile === '') throw new ConfigError(`TLS for ${purpose}: TLS Server private key must be present and valid`);
  const [tls, cert, key, ca] = await Promise.all([
    import('node:tls'),
    readPem(settings.certFile, 'certificate file', purpose),
    readPem(settings.keyFile, 'key file', purpose),
    settings.caFile === '' ? Promise.resolve(undefined) : readPem(settings.caFile, 'CA file', purpose),
  ]);
  const ciphers = opensslCiphers(settings.cipherSuites);
  const ecdhCurve = opensslCurves(settings.curvePreferences);
  const options: TlsServerOptions = {
    cert,
    key,
    ...(ca === undefined ? {} : { ca }),
    ...(ciphers === undefined ? {} : { ciphers }),
    ...(ecdhCurve === undefined ? {} : { ecdhCurve }),
    minVersion: 'TLSv1.2',
  };
  try {
    return new LoadedTls(tls, settings, options);
  } catch (error) {
    throw new ConfigError(`TLS for ${purpose}: error parsing X509 certificate/key pair (${settings.certFile}, ${settings.keyFile}): ${describeOpensslError(error)}`, { cause: error });
  }
}

/** OpenSSL's reason without its library and function codes. */
function describeOpensslError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const reason = /:([^:]+)$/.exec(message)?.[1];
  return reason ?? message;
}
