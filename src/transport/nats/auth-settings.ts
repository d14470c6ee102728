// Who may connect and what each may do, as nats-server 2.9's `authorization {}` block says it:
// one user and password, a token, or a list of users each with permissions; plain data, filled in
// by the configuration layer and compiled by client-auth.ts and permissions.ts.

/** Subjects (wildcards allowed) a permission lets through and keeps out; deny wins. */
export interface SubjectRules {
  /** null: everything not denied; []: nothing. */
  readonly allow: readonly string[] | null;
  readonly deny: readonly string[];
}

/** `allow_responses`: a user may publish to the reply subject of a message it received. */
export interface ResponseRules {
  /** Replies allowed per request received. */
  readonly maxMsgs: number;
  /** How long after the request a reply is allowed. */
  readonly expiresMs: number;
}

export interface UserPermissions {
  /** null: no publish rules (everything allowed). */
  readonly publish: SubjectRules | null;
  readonly subscribe: SubjectRules | null;
  readonly responses: ResponseRules | null;
}

export interface UserEntry {
  readonly user: string;
  /** Plain text or a bcrypt hash (`$2a$...`). */
  readonly password: string;
  /** null: the user may do everything. */
  readonly permissions: UserPermissions | null;
  /** `allowed_connection_types`; empty = any. tstan serves `STANDARD` client connections only. */
  readonly connectionTypes: readonly string[];
}

/** nats-server's defaults for `allow_responses: true`. */
export const defaultResponseRules: ResponseRules = Object.freeze({ maxMsgs: 1, expiresMs: 2 * 60_000 });

/** nats-server's test for a bcrypt hash in a password or token. */
export function isBcrypt(secret: string): boolean {
  return /^\$2[abxy]\$\d{2}\$.*/.test(secret);
}
