// A TLS setting turned into something that can secure sockets: the certificate, key and CA files
// read once, Node's secure context built once, and the two ways a socket becomes a TLS socket
// here (the server side of a client or route we accepted, the client side of a route we dial).
// node:tls is imported only by loadTls(), so a node without TLS never loads it.
import { isIP, type Socket } from 'node:net';
import type { SecureContext, TLSSocket } from 'node:tls';
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

export class LoadedTls {
  readonly secureContext: SecureContext;

  constructor(
    private readonly tls: TlsModule,
    readonly settings: TlsSettings,
    readonly serverOptions: TlsServerOptions,
  ) {
    this.secureContext = tls.createSecureContext(serverOptions);
  }

  /**
   * The server side over a socket we accepted. A peer certificate, when `verify` asks for one, is
   * checked by the caller on 'secure' (`authorized`): Node completes the handshake either way.
   */
  acceptSocket(raw: Socket): TLSSocket {
    return new this.tls.TLSSocket(raw, {
      isServer: true,
      secureContext: this.secureContext,
      requestCert: this.settings.verify,
      rejectUnauthorized: false,
    });
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
