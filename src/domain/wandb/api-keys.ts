import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { isPglite } from '../../config.js';
import { rows, type Orm } from '../../db/connect.js';
import { ensureKeyOwner } from '../../auth/accounts.js';
import { invalidParam, notFound } from '../../errors.js';

// Keys look like `cairn-<40 hex>`. The wandb client (0.31: wbauth/validation.py check_api_key) takes
// the part after the first '-' as the secret and wants 40+ characters of [\w-]; clients older than
// 0.22.3 wanted exactly 40 after the last '-'. Exactly 40 hex digits after one dash passes both.
const KEY_PREFIX = 'cairn-';
const KEY_SHAPE = /^cairn-[0-9a-f]{40}$/;
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/;

/** The account a key logs in as (the W&B viewer and default entity). */
export interface WandbUser {
  name: string;
  id: number;
  isAdmin: boolean;
}

export interface NewKey {
  key: string;
  hash: string;
  prefix: string;
  userName: string;
  createdAt: number;
}

const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');

export function validateUserName(name: string): string {
  if (!USER_NAME.test(name)) {
    throw invalidParam(`Invalid user name '${name.slice(0, 80)}': use 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit`);
  }
  return name;
}

export function newApiKey(userName: string, now: number): NewKey {
  validateUserName(userName);
  const key = KEY_PREFIX + randomBytes(20).toString('hex');
  return { key, hash: hashKey(key), prefix: key.slice(0, KEY_PREFIX.length + 6), userName, createdAt: now };
}

async function insertKeys(db: Orm, keys: Omit<NewKey, 'key'>[]): Promise<void> {
  for (const k of keys) {
    await ensureKeyOwner(db, k.userName, k.createdAt);
    await db.execute(sql`insert into wandb_api_keys (key_hash, key_prefix, user_name, created_at)
                         values (${k.hash}, ${k.prefix}, ${k.userName}, ${k.createdAt}) on conflict (key_hash) do nothing`);
  }
}

export async function createApiKey(db: Orm, userName: string, now: number): Promise<NewKey> {
  const created = newApiKey(userName, now);
  await insertKeys(db, [created]);
  return created;
}

// An embedded (PGlite) database belongs to the one process that opened it: a second process
// opening the folder corrupts it, and a server may be running or starting at any moment. So
// `cairn keys create` never opens it: it appends the new key's hash to a file beside it, and the
// server imports that file the first time it sees a key it does not know.

/** The pending-keys file of an embedded database folder; undefined for Postgres or memory://. */
export function pendingKeysFile(backendStoreUri: string): string | undefined {
  if (!isPglite(backendStoreUri) || backendStoreUri === 'memory://' || backendStoreUri === 'pglite://memory') return undefined;
  const dir = path.resolve(backendStoreUri.slice('pglite://'.length));
  return path.join(path.dirname(dir), `${path.basename(dir)}.wandb-keys`);
}

export function appendPendingKey(file: string, created: NewKey): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const { key: _secret, ...record } = created;
  fs.appendFileSync(file, JSON.stringify(record) + '\n', { mode: 0o600 });
}

/** Queues a revocation (by key id or prefix); the server applies it before its next key check. */
export function appendPendingRevocation(file: string, which: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.appendFileSync(file, JSON.stringify({ revoke: which }) + '\n', { mode: 0o600 });
}

/** Moves the pending keys (and revocations) into the database; returns how many keys there were. */
export async function importPendingKeys(db: Orm, file: string, now = Date.now()): Promise<number> {
  const claimed = `${file}.importing-${process.pid}-${Date.now()}`;
  try {
    fs.renameSync(file, claimed);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  const keys: Omit<NewKey, 'key'>[] = [];
  const revocations: string[] = [];
  for (const line of fs.readFileSync(claimed, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const k = JSON.parse(line) as Omit<NewKey, 'key'> & { revoke?: unknown };
      if (typeof k.revoke === 'string') revocations.push(k.revoke);
      else if (/^[0-9a-f]{64}$/.test(k.hash) && USER_NAME.test(k.userName)) keys.push({ ...k, createdAt: Number(k.createdAt) || 0 });
    } catch {
      // A torn line is skipped; its key was never shown complete to anyone.
    }
  }
  try {
    await insertKeys(db, keys);
    for (const which of revocations) {
      // A revocation naming no key (a typo) is dropped: the CLI already said what it queued.
      await revokeApiKey(db, which, now).catch(() => undefined);
    }
  } catch (err) {
    // Put them back for the next attempt.
    fs.appendFileSync(file, fs.readFileSync(claimed, 'utf8'), { mode: 0o600 });
    fs.rmSync(claimed, { force: true });
    throw err;
  }
  fs.rmSync(claimed, { force: true });
  return keys.length;
}

// No cache: one indexed lookup per request, so a revoked key (or a deleted account) stops working
// on the very next request, on every process.
async function lookup(db: Orm, hash: string): Promise<WandbUser | null> {
  const found = await rows<{ username: string; id: number | string; is_admin: boolean }>(
    db,
    sql`select u.username, u.id, u.is_admin from wandb_api_keys k join users u on u.username = k.user_name
        where k.key_hash = ${hash} and k.revoked_at is null`,
  );
  return found.length ? { name: found[0].username, id: Number(found[0].id), isAdmin: found[0].is_admin } : null;
}

/** The user a key logs in as, or null for an unknown, revoked or malformed key. */
export async function verifyApiKey(db: Orm, key: string, now: number, pendingFile?: string): Promise<WandbUser | null> {
  if (!KEY_SHAPE.test(key)) return null;
  // A queued revocation must win over the key it names: import the queue first (a stat when empty).
  if (pendingFile && fs.existsSync(pendingFile)) await importPendingKeys(db, pendingFile, now);
  return lookup(db, hashKey(key));
}

export interface KeyListing {
  id: number;
  prefix: string;
  user: string;
  createdAt: number;
  revokedAt: number | null;
}

export async function listApiKeys(db: Orm, user?: string): Promise<KeyListing[]> {
  const found = await rows<{ id: number | string; key_prefix: string; user_name: string; created_at: number | string; revoked_at: number | string | null }>(
    db,
    user === undefined
      ? sql`select id, key_prefix, user_name, created_at, revoked_at from wandb_api_keys order by id`
      : sql`select id, key_prefix, user_name, created_at, revoked_at from wandb_api_keys where user_name = ${user} order by id`,
  );
  return found.map((r) => ({
    id: Number(r.id),
    prefix: r.key_prefix,
    user: r.user_name,
    createdAt: Number(r.created_at),
    revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
  }));
}

/**
 * Revokes the key with this id or prefix (of `user`'s keys when given). A prefix must match one
 * key only. Returns what was revoked.
 */
export async function revokeApiKey(db: Orm, which: string, now: number, user?: string): Promise<KeyListing> {
  const keys = (await listApiKeys(db, user)).filter((k) => String(k.id) === which || k.prefix === which || (which.length >= 8 && k.prefix.startsWith(which)));
  if (keys.length === 0) throw notFound(`No API key '${which.slice(0, 60)}'${user === undefined ? '' : ` of user '${user}'`}`);
  if (keys.length > 1) throw invalidParam(`'${which.slice(0, 60)}' matches ${keys.length} keys: give the key's id (cairn keys list)`);
  await db.execute(sql`update wandb_api_keys set revoked_at = ${now} where id = ${keys[0].id} and revoked_at is null`);
  return { ...keys[0], revokedAt: keys[0].revokedAt ?? now };
}
