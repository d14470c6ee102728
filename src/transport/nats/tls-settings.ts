// TLS settings as nats-server 2.9 names them (the `tls {}` block, the --tls* flags), and their
// translation into what Node's TLS layer takes. Go names cipher suites and curves its own way
// (`TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`, `CurveP256`); OpenSSL, under Node, has other names for
// the same things. Plain data and pure functions: node:tls is loaded elsewhere, only when TLS is on.

/** One `tls {}` block: the client port's, the routes', or the flags' equivalent. */
export interface TlsSettings {
  readonly certFile: string;
  readonly keyFile: string;
  /** CA certificates that peers' certificates are verified against ('' = the system's). */
  readonly caFile: string;
  /** Require and verify a certificate from the peer (mutual TLS). */
  readonly verify: boolean;
  /** The whole of a handshake, from the first byte, must end within this. */
  readonly timeoutMs: number;
  /** Go names; empty = Node's defaults. TLS 1.3 suites are always on, as in Go. */
  readonly cipherSuites: readonly string[];
  /** Go names; empty = Node's defaults. */
  readonly curvePreferences: readonly string[];
  /** Routes only: do not verify the certificate of a route we dial. */
  readonly insecure: boolean;
}

/** nats-server's TLS_TIMEOUT. */
export const defaultTlsTimeoutMs = 2_000;

export const defaultTlsSettings: TlsSettings = Object.freeze({
  certFile: '',
  keyFile: '',
  caFile: '',
  verify: false,
  timeoutMs: defaultTlsTimeoutMs,
  cipherSuites: [],
  curvePreferences: [],
  insecure: false,
});

/**
 * The TLS 1.2 suites Go knows, by their OpenSSL names. TLS 1.3 suites are listed too because Go
 * accepts their names in `cipher_suites` (and ignores them: 1.3 suites are not configurable there).
 */
const cipherSuiteNames: ReadonlyMap<string, string> = new Map([
  ['TLS_RSA_WITH_RC4_128_SHA', 'RC4-SHA'],
  ['TLS_RSA_WITH_3DES_EDE_CBC_SHA', 'DES-CBC3-SHA'],
  ['TLS_RSA_WITH_AES_128_CBC_SHA', 'AES128-SHA'],
  ['TLS_RSA_WITH_AES_256_CBC_SHA', 'AES256-SHA'],
  ['TLS_RSA_WITH_AES_128_CBC_SHA256', 'AES128-SHA256'],
  ['TLS_RSA_WITH_AES_128_GCM_SHA256', 'AES128-GCM-SHA256'],
  ['TLS_RSA_WITH_AES_256_GCM_SHA384', 'AES256-GCM-SHA384'],
  ['TLS_ECDHE_ECDSA_WITH_RC4_128_SHA', 'ECDHE-ECDSA-RC4-SHA'],
  ['TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA', 'ECDHE-ECDSA-AES128-SHA'],
  ['TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA', 'ECDHE-ECDSA-AES256-SHA'],
  ['TLS_ECDHE_RSA_WITH_RC4_128_SHA', 'ECDHE-RSA-RC4-SHA'],
  ['TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA', 'ECDHE-RSA-DES-CBC3-SHA'],
  ['TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', 'ECDHE-RSA-AES128-SHA'],
  ['TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA', 'ECDHE-RSA-AES256-SHA'],
  ['TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256', 'ECDHE-ECDSA-AES128-SHA256'],
  ['TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256', 'ECDHE-RSA-AES128-SHA256'],
  ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'ECDHE-RSA-AES128-GCM-SHA256'],
  ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'ECDHE-ECDSA-AES128-GCM-SHA256'],
  ['TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'ECDHE-RSA-AES256-GCM-SHA384'],
  ['TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', 'ECDHE-ECDSA-AES256-GCM-SHA384'],
  ['TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305'],
  ['TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305', 'ECDHE-ECDSA-CHACHA20-POLY1305'],
  ['TLS_AES_128_GCM_SHA256', ''],
  ['TLS_AES_256_GCM_SHA384', ''],
  ['TLS_CHACHA20_POLY1305_SHA256', ''],
]);

/** The TLS 1.3 suites, always offered whatever `cipher_suites` says (Go does the same). */
const tls13Suites = ['TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256'];

const curveNames: ReadonlyMap<string, string> = new Map([
  ['CurveP256', 'P-256'],
  ['CurveP384', 'P-384'],
  ['CurveP521', 'P-521'],
  ['X25519', 'X25519'],
]);

/** Every cipher suite name `cipher_suites` accepts (`--help_tls` lists them). */
export function knownCipherSuites(): string[] {
  return [...cipherSuiteNames.keys()];
}

export function knownCurves(): string[] {
  return [...curveNames.keys()];
}

/** nats-server's message for a name it does not know, or undefined when all are known. */
export function unknownCipherSuite(names: readonly string[]): string | undefined {
  const unknown = names.find((name) => !cipherSuiteNames.has(name));
  return unknown === undefined ? undefined : `unrecognized cipher ${unknown}`;
}

export function unknownCurve(names: readonly string[]): string | undefined {
  const unknown = names.find((name) => !curveNames.has(name));
  return unknown === undefined ? undefined : `unrecognized curve preference ${unknown}`;
}

/**
 * Node's `ciphers` string for Go cipher suite names, or undefined for Node's defaults. Suites that
 * OpenSSL under this Node refuses (RC4, 3DES are gone from OpenSSL 3's default provider) simply
 * never match, as a suite Go dropped would not.
 */
export function opensslCiphers(names: readonly string[]): string | undefined {
  if (names.length === 0) return undefined;
  const tls12 = names.map((name) => cipherSuiteNames.get(name) ?? '').filter((name) => name !== '');
  return [...tls13Suites, ...tls12].join(':');
}

/** Node's `ecdhCurve` string for Go curve names, or undefined for Node's defaults. */
export function opensslCurves(names: readonly string[]): string | undefined {
  if (names.length === 0) return undefined;
  return names.map((name) => curveNames.get(name) ?? name).join(':');
}
