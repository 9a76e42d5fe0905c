import { sql } from 'drizzle-orm';
import { rows, type Orm } from '../db/connect.js';
import type { Deps } from '../deps.js';
import { alreadyExists, invalidParam, MlflowError, notFound } from '../errors.js';
import { hashPassword } from './passwords.js';

// Accounts: the users table behind MLflow's /mlflow/users/* endpoints, HTTP Basic logins and the
// owners of API keys.

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/;
const MAX_PASSWORD = 1024;

export interface UserRow {
  id: number;
  username: string;
  passwordHash: string | null;
  isAdmin: boolean;
}

/** The JSON MLflow answers for a user (never the hash). */
export const userWire = (u: UserRow) => ({ id: u.id, username: u.username, is_admin: u.isAdmin });

export function validateUsername(name: unknown): string {
  if (typeof name !== 'string' || !USERNAME.test(name)) {
    throw invalidParam(`Invalid username '${String(name).slice(0, 80)}': use 1-64 letters, digits, '_', '.', '@' or '-', starting with a letter or digit`);
  }
  return name;
}

function validatePassword(password: unknown): string {
  if (typeof password !== 'string' || password.length === 0) throw invalidParam('Username and password cannot be empty.');
  if (password.length > MAX_PASSWORD) throw invalidParam(`Password is longer than ${MAX_PASSWORD} characters.`);
  return password;
}

type Raw = { id: number | string; username: string; password_hash: string | null; is_admin: boolean };
const fromRaw = (r: Raw): UserRow => ({ id: Number(r.id), username: r.username, passwordHash: r.password_hash, isAdmin: r.is_admin });

export async function findUser(db: Orm, username: string): Promise<UserRow | undefined> {
  const found = await rows<Raw>(db, sql`select id, username, password_hash, is_admin from users where username = ${username}`);
  return found.length ? fromRaw(found[0]) : undefined;
}

export async function getUser(deps: Deps, username: string): Promise<UserRow> {
  const user = await findUser(deps.db, validateUsername(username));
  if (!user) throw notFound(`User with username=${username} not found`);
  return user;
}

export async function createUser(deps: Deps, username: unknown, password: unknown, isAdmin = false): Promise<UserRow> {
  const name = validateUsername(username);
  const hash = await hashPassword(validatePassword(password));
  // An account's name is its W&B entity, which a team's name may already be.
  const team = await rows(deps.db, sql`select 1 from teams where name = ${name}`);
  if (team.length) throw alreadyExists(`'${name}' is a team's name: choose another username`);
  const created = await rows<Raw>(
    deps.db,
    sql`insert into users (username, password_hash, is_admin, created_at) values (${name}, ${hash}, ${isAdmin}, ${deps.now()})
        on conflict (username) do nothing returning id, username, password_hash, is_admin`,
  );
  if (!created.length) throw alreadyExists(`User '${name}' already exists.`);
  return fromRaw(created[0]);
}

/** The account an API key is issued to, made (without a password) when it does not exist yet. */
export async function ensureKeyOwner(db: Orm, username: string, now: number): Promise<void> {
  validateUsername(username);
  await db.execute(sql`insert into users (username, is_admin, created_at) values (${username}, false, ${now}) on conflict (username) do nothing`);
}

export async function updatePassword(deps: Deps, username: string, password: unknown): Promise<void> {
  const user = await getUser(deps, username);
  const hash = await hashPassword(validatePassword(password));
  await deps.db.execute(sql`update users set password_hash = ${hash} where id = ${user.id}`);
}

export async function updateAdmin(deps: Deps, username: string, isAdmin: unknown): Promise<void> {
  const flag = isAdmin === true || isAdmin === 'true' || isAdmin === 'True' ? true : isAdmin === false || isAdmin === 'false' || isAdmin === 'False' ? false : undefined;
  if (flag === undefined) throw invalidParam(`Invalid value for is_admin: ${JSON.stringify(isAdmin)?.slice(0, 40)}`);
  const user = await getUser(deps, username);
  await deps.db.execute(sql`update users set is_admin = ${flag} where id = ${user.id}`);
}

export async function deleteUser(deps: Deps, username: string): Promise<void> {
  const user = await getUser(deps, username);
  // Keys reference the name (on delete cascade), permissions the id: all go with the account.
  await deps.db.execute(sql`delete from users where id = ${user.id}`);
}

export async function listUsers(deps: Deps): Promise<UserRow[]> {
  return (await rows<Raw>(deps.db, sql`select id, username, password_hash, is_admin from users order by id`)).map(fromRaw);
}

/**
 * The admin from configuration, created on the first start with auth on (later starts leave it
 * alone: its password is changed through the API). Without a configured password there is no
 * admin to log in as, so start-up stops, as MLflow 3.18 does.
 */
export async function ensureConfiguredAdmin(deps: Deps): Promise<'created' | 'exists'> {
  const { adminUsername, adminPassword } = deps.config.auth;
  const existing = await findUser(deps.db, adminUsername);
  if (existing) {
    if (!existing.isAdmin) await deps.db.execute(sql`update users set is_admin = true where id = ${existing.id}`);
    return 'exists';
  }
  if (!adminPassword) {
    throw new MlflowError(
      'INVALID_PARAMETER_VALUE',
      `auth is on and the admin user '${adminUsername}' does not exist yet: set MLFLOW_AUTH_ADMIN_PASSWORD (or admin_password in MLFLOW_AUTH_CONFIG_PATH) for its first start`,
    );
  }
  try {
    await createUser(deps, adminUsername, adminPassword, true);
  } catch (err) {
    // Another worker or process created it first.
    if (!(err instanceof MlflowError && err.code === 'RESOURCE_ALREADY_EXISTS')) throw err;
  }
  return 'created';
}
