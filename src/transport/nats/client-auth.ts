// Who a CONNECT says it is, checked as nats-server 2.9 checks it: with a list of users, the user
// named (or, without any credentials, the `no_auth_user`) and its password; else the token; else
// the one user and password. Passwords and tokens may be bcrypt hashes (secret-check.ts).
import type { ConnectOptions } from './connect-options.js';
import type { UserEntry, UserPermissions } from './auth-settings.js';
import { sameSecret, SecretCheck } from './secret-check.js';

export interface AuthSettings {
  readonly user: string;
  readonly password: string;
  readonly authToken: string;
  readonly users: readonly UserEntry[];
  /** A user of `users` that clients without credentials are taken to be. */
  readonly noAuthUser: string;
}

export type AuthOutcome =
  | { readonly ok: true; readonly user: string; readonly permissions: UserPermissions | null }
  | { readonly ok: false };

const refused: AuthOutcome = Object.freeze({ ok: false });

/** The client kind tstan serves, in nats-server's `allowed_connection_types` names. */
const standardConnectionType = 'STANDARD';

export class ClientAuthenticator {
  private readonly users: ReadonlyMap<string, UserEntry>;
  private readonly secrets = new SecretCheck();

  constructor(private readonly settings: AuthSettings) {
    this.users = new Map(settings.users.map((entry) => [entry.user, entry]));
  }

  get required(): boolean {
    return this.users.size > 0 || this.settings.user !== '' || this.settings.authToken !== '';
  }

  /** Loads what comparing the configured secrets needs; start-up awaits it before serving. */
  async prepare(): Promise<void> {
    const { password, authToken, users } = this.settings;
    await this.secrets.prepare([password, authToken, ...users.map((entry) => entry.password)]);
  }

  /** A verdict now for plain secrets; a Promise of one when a bcrypt hash must be compared. */
  authenticate(connect: ConnectOptions): AuthOutcome | Promise<AuthOutcome> {
    if (this.users.size > 0) return this.authenticateUser(connect);
    if (this.settings.authToken !== '') {
      return this.verdict(this.secrets.check(connect.authToken, this.settings.authToken), '', null);
    }
    if (!sameSecret(connect.user, this.settings.user)) return refused;
    return this.verdict(this.secrets.check(connect.pass, this.settings.password), connect.user, null);
  }

  private authenticateUser(connect: ConnectOptions): AuthOutcome | Promise<AuthOutcome> {
    const anonymous = connect.user === '' && connect.pass === '' && connect.authToken === '';
    if (anonymous && this.settings.noAuthUser !== '') {
      const entry = this.users.get(this.settings.noAuthUser);
      return entry === undefined || !this.admitsStandardClients(entry) ? refused : { ok: true, user: entry.user, permissions: entry.permissions };
    }
    const entry = this.users.get(connect.user);
    if (entry === undefined || !this.admitsStandardClients(entry)) return refused;
    return this.verdict(this.secrets.check(connect.pass, entry.password), entry.user, entry.permissions);
  }

  private admitsStandardClients(entry: UserEntry): boolean {
    return entry.connectionTypes.length === 0 || entry.connectionTypes.includes(standardConnectionType);
  }

  private verdict(passed: boolean | Promise<boolean>, user: string, permissions: UserPermissions | null): AuthOutcome | Promise<AuthOutcome> {
    const outcome = (ok: boolean): AuthOutcome => (ok ? { ok: true, user, permissions } : refused);
    return typeof passed === 'boolean' ? outcome(passed) : passed.then(outcome);
  }
}
