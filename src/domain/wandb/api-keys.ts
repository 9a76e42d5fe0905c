import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { isPglite } from '../../config.js';
import { rows, type Orm } from '../../db/connect.js';
import { invalidParam } from '../../errors.js';

// Keys look like `cairn-<40 hex>`. The wandb client (0.31: wbauth/validation.py check_api_key) takes
// the part after the first '-' as the secret and wants 40+ characters of [\w-]; clients older than
// 0.22.3 wanted exactly 40 after the last '-'. Exactly 40 hex digits after one dash passes both.
const KEY_PREFIX = 'cairn-';
const KEY_SHAPE = /^cairn-[0-9a-f]{40}$/;
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export interface WandbUser {
  name: string;
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

/** Moves the pending keys into the database; returns how many there were. */
export async function importPendingKeys(db: Orm, file: string): Promise<number> {
  const claimed = `${file}.importing-${process.pid}-${Date.now()}`;
  try {
    fs.renameSync(file, claimed);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  const keys: Omit<NewKey, 'key'>[] = [];
  for (const line of fs.readFileSync(claimed, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const k = JSON.parse(line) as Omit<NewKey, 'key'>;
      if (/^[0-9a-f]{64}$/.test(k.hash) && USER_NAME.test(k.userName)) keys.push({ ...k, createdAt: Number(k.createdAt) || 0 });
    } catch {
      // A torn line is skipped; its key was never shown complete to anyone.
    }
  }
  try {
    await insertKeys(db, keys);
  } catch (err) {
    // Put them back for the next attempt.
    fs.appendFileSync(file, fs.readFileSync(claimed, 'utf8'), { mode: 0o600 });
    fs.rmSync(claimed, { force: true });
    throw err;
  }
  fs.rmSync(claimed, { force: true });
  return keys.length;
}

// A verified key is remembered briefly so a busy file_stream does not query the table on every
// post; a revoked key stops working within this window. One cache per database handle, so apps on
// different databases (tests) never share entries.
const CACHE_MS = 30_000;
const CACHE_MAX = 1000;
const caches = new WeakMap<Orm, Map<string, { user: WandbUser | null; until: number }>>();

async function lookup(db: Orm, hash: string): Promise<WandbUser | null> {
  const found = await rows<{ user_name: string }>(db, sql`select user_name from wandb_api_keys where key_hash = ${hash} and revoked_at is null`);
  return found.length ? { name: found[0].user_name } : null;
}

/** The user a key logs in as, or null for an unknown, revoked or malformed key. */
export async function verifyApiKey(db: Orm, key: string, now: number, pendingFile?: string): Promise<WandbUser | null> {
  if (!KEY_SHAPE.test(key)) return null;
  const hash = hashKey(key);
  let cache = caches.get(db);
  if (!cache) caches.set(db, (cache = new Map()));
  const hit = cache.get(hash);
  if (hit && hit.until > now) return hit.user;
  let user = await lookup(db, hash);
  if (!user && pendingFile && (await importPendingKeys(db, pendingFile)) > 0) user = await lookup(db, hash);
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(hash, { user, until: now + CACHE_MS });
  return user;
}
