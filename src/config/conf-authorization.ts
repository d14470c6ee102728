// The structured keys of the `authorization {}` block: `users` (a list of users, each with a
// password and permissions) and the default `permissions` of users that have none, in nats-server
// 2.9's syntax. A subject permission is a subject, a list of subjects, or `{ allow, deny }`;
// `allow_responses` is true or `{ max, expires }`. Errors name the file, line and column.

import { ConfigError } from '../util/errors.js';
import { describeType, formatPosition, type ConfEntry, type ConfValue } from './conf-tree.js';
import { parseGoDurationMs } from './go-duration.js';
import { defaultResponseRules, type ResponseRules, type SubjectRules, type UserEntry, type UserPermissions } from '../transport/nats/auth-settings.js';
import { isValidSubscribeSubject } from '../transport/nats/subject.js';

/** Every key of `authorization {}` read here rather than through the option table. */
export const structuredAuthorizationKeys: readonly string[] = ['users', 'permissions', 'default_permissions', 'default_permission'];

const connectionTypes = ['STANDARD', 'WEBSOCKET', 'LEAFNODE', 'MQTT'];

function fail(value: ConfValue | ConfEntry, message: string): never {
  const position = 'keyPosition' in value ? value.keyPosition : value.position;
  throw new ConfigError(`${formatPosition(position)}: ${message}`);
}

function entriesOf(value: ConfValue, what: string): ConfEntry[] {
  if (value.type !== 'map') fail(value, `${what} must be a block { ... }, got ${describeType(value)}`);
  return [...value.entries.values()].filter((entry) => !entry.usedAsVariable);
}

function subjectsOf(value: ConfValue): string[] {
  const items = value.type === 'array' ? value.items : [value];
  return items.map((item) => {
    if (item.type !== 'string') fail(item, `expected subject permissions to be a subject, or array of subjects, got ${describeType(item)}`);
    if (!isValidSubscribeSubject(item.value)) fail(item, `subject "${item.value}" is not a valid subject`);
    return item.value;
  });
}

function subjectRulesOf(value: ConfValue): SubjectRules {
  if (value.type !== 'map') return { allow: subjectsOf(value), deny: [] };
  let allow: string[] | null = null;
  let deny: string[] = [];
  for (const entry of entriesOf(value, 'subject permissions')) {
    const key = entry.key.toLowerCase();
    if (key === 'allow') allow = subjectsOf(entry.value);
    else if (key === 'deny') deny = subjectsOf(entry.value);
    else fail(entry, `unknown field name "${entry.key}" parsing subject permissions, only 'allow' or 'deny' are permitted`);
  }
  return { allow, deny };
}

function responseRulesOf(value: ConfValue): ResponseRules | null {
  if (value.type === 'bool') return value.value ? defaultResponseRules : null;
  if (value.type !== 'map') fail(value, 'error parsing response permissions, expected a boolean or a map');
  let { maxMsgs, expiresMs } = defaultResponseRules;
  for (const entry of entriesOf(value, 'response permissions')) {
    const key = entry.key.toLowerCase();
    if (key === 'max' || key === 'max_msgs' || key === 'max_messages' || key === 'max_responses') {
      if (entry.value.type !== 'int' || entry.value.value < 0) fail(entry, `"${entry.key}" must be a number of messages`);
      maxMsgs = entry.value.value === 0 ? defaultResponseRules.maxMsgs : entry.value.value;
    } else if (key === 'expires' || key === 'expiration' || key === 'ttl') {
      const ms = entry.value.type === 'string' ? parseGoDurationMs(entry.value.value) : entry.value.type === 'int' ? entry.value.value * 1_000 : undefined;
      if (ms === undefined || ms < 0) fail(entry, `"${entry.key}" must be a duration ("1m")`);
      expiresMs = ms === 0 ? defaultResponseRules.expiresMs : ms;
    } else {
      fail(entry, `unknown field "${entry.key}" parsing permissions`);
    }
  }
  return { maxMsgs, expiresMs };
}

/** `permissions { publish, subscribe, allow_responses }`, with nats-server's aliases. */
export function permissionsOf(value: ConfValue): UserPermissions {
  let publish: SubjectRules | null = null;
  let subscribe: SubjectRules | null = null;
  let responses: ResponseRules | null = null;
  for (const entry of entriesOf(value, 'permissions')) {
    const key = entry.key.toLowerCase();
    if (key === 'pub' || key === 'publish' || key === 'import') publish = subjectRulesOf(entry.value);
    else if (key === 'sub' || key === 'subscribe' || key === 'export') subscribe = subjectRulesOf(entry.value);
    else if (key === 'allow_responses' || key === 'publish_allow_responses') responses = responseRulesOf(entry.value);
    else fail(entry, `unknown field "${entry.key}" parsing permissions`);
  }
  // As nats-server: replies being allowed turns a missing publish allow list into "nothing else".
  if (responses !== null) publish = { allow: publish?.allow ?? [], deny: publish?.deny ?? [] };
  return { publish, subscribe, responses };
}

function userOf(value: ConfValue): UserEntry {
  let user = '';
  let password = '';
  let permissions: UserPermissions | null = null;
  let types: string[] = [];
  for (const entry of entriesOf(value, 'a user entry')) {
    const key = entry.key.toLowerCase();
    if (key === 'user' || key === 'username' || key === 'password' || key === 'pass') {
      // Never the value in the message: it may be the password.
      if (entry.value.type !== 'string') fail(entry, `"${entry.key}" must be a string, got a ${entry.value.type}`);
      if (key.startsWith('user')) user = entry.value.value;
      else password = entry.value.value;
    } else if (key === 'permissions' || key === 'permission') {
      permissions = permissionsOf(entry.value);
    } else if (key === 'allowed_connection_types' || key === 'connection_types' || key === 'clients') {
      types = subjectsOf(entry.value).map((type) => type.toUpperCase());
      const unknown = types.find((type) => !connectionTypes.includes(type));
      if (unknown !== undefined) fail(entry, `invalid connection type "${unknown}"`);
    } else if (key === 'nkey') {
      fail(entry, 'tstan does not support "nkey" yet: nkey authentication is not built');
    } else {
      fail(entry, `unknown field "${entry.key}"`);
    }
  }
  if (user === '') fail(value, 'User entry requires a user');
  return { user, password, permissions, connectionTypes: types };
}

/** `users: [ { user, password, permissions } ... ]`; a name given twice is an error. */
export function usersOf(entry: ConfEntry): UserEntry[] {
  if (entry.value.type !== 'array') fail(entry, `expected users field to be an array, got ${describeType(entry.value)}`);
  const users: UserEntry[] = [];
  for (const item of entry.value.items) {
    const user = userOf(item);
    if (users.some((other) => other.user === user.user)) fail(item, `Duplicate user "${user.user}" detected`);
    users.push(user);
  }
  return users;
}
