import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { rows, type Orm } from '../../db/connect.js';
import { MlflowError } from '../../errors.js';

// wandb-core uploads run files with a plain PUT that carries no credentials, so the URL Cairn hands
// out in CreateRunFiles is its own credential: the run, the file path and an expiry (minutes, set by
// --wandb-upload-url-ttl), signed with an HMAC key that lives in the database (one key for every
// Cairn process, created on first use). A URL works once: a copy seen in a proxy log or a shell
// history cannot overwrite the file later. CreateRunFiles names no sizes, so there is none to bind.

const SECRET_NAME = 'upload-url-hmac';
// Spent URLs are remembered, until they expire, next to the signing key (a table of its own would
// need a migration for what is a handful of short-lived rows).
const SPENT_PREFIX = 'upload-url-spent:';

export interface UploadGrant {
  runId: string;
  path: string;
  expires: number;
  /** The signature: what marks this URL as spent. */
  id: string;
}

/**
 * What a token lets its bearer do. Upload tokens carry no kind (those already handed out stay
 * valid); others name theirs, so a download URL can never be replayed as an upload and back.
 */
export type GrantKind = 'upload' | 'download' | 'artifact-file' | 'artifact-manifest' | 'manifest-read' | 'artifact-read' | 'artifact-part' | 'artifact-multipart';

const secrets = new WeakMap<Orm, Promise<Buffer>>();

function signingKey(db: Orm): Promise<Buffer> {
  let key = secrets.get(db);
  if (!key) {
    key = loadOrCreateSecret(db);
    secrets.set(db, key);
    key.catch(() => secrets.delete(db));
  }
  return key;
}

async function loadOrCreateSecret(db: Orm): Promise<Buffer> {
  await db.execute(sql`insert into wandb_secrets (name, value) values (${SECRET_NAME}, ${randomBytes(32).toString('hex')})
                       on conflict (name) do nothing`);
  const found = await rows<{ value: string }>(db, sql`select value from wandb_secrets where name = ${SECRET_NAME}`);
  return Buffer.from(found[0].value, 'hex');
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export async function signUpload(db: Orm, runId: string, path: string, now: number, ttlMs: number, kind: GrantKind = 'upload'): Promise<string> {
  // The nonce makes two URLs for the same file at the same millisecond two different URLs.
  const claims = { r: runId, p: path, e: now + ttlMs, n: randomBytes(8).toString('base64url'), ...(kind === 'upload' ? {} : { k: kind }) };
  const payload = b64url(JSON.stringify(claims));
  const mac = createHmac('sha256', await signingKey(db)).update(payload).digest();
  return `${payload}.${b64url(mac)}`;
}

/** The grant behind a token, or a 403 for a forged, altered or expired one. */
export async function verifyUpload(db: Orm, token: string, now: number, kind: GrantKind | GrantKind[] = 'upload'): Promise<UploadGrant & { kind: GrantKind }> {
  const kinds = Array.isArray(kind) ? kind : [kind];
  const denied = (why: string) => new MlflowError('PERMISSION_DENIED', `${kinds.includes('download') || kinds.includes('manifest-read') || kinds.includes('artifact-read') ? 'Download' : 'Upload'} URL ${why}`);
  const [payload, mac, extra] = token.split('.');
  if (!payload || !mac || extra !== undefined) throw denied('is malformed');
  const expected = createHmac('sha256', await signingKey(db)).update(payload).digest();
  const given = Buffer.from(mac, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw denied('has an invalid signature');
  let grant: { r?: unknown; p?: unknown; e?: unknown; k?: unknown };
  try {
    grant = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw denied('is malformed');
  }
  if (typeof grant.r !== 'string' || typeof grant.p !== 'string' || typeof grant.e !== 'number') throw denied('is malformed');
  const granted = (grant.k ?? 'upload') as GrantKind;
  if (!kinds.includes(granted)) throw denied('is not valid for this request');
  if (grant.e < now) throw denied('has expired');
  // The canonical spelling of the signature: base64url decoding forgives unused trailing bits, so a
  // re-spelt copy of a spent URL must still count as that URL.
  return { runId: grant.r, path: grant.p, expires: grant.e, id: b64url(expected), kind: granted };
}

/**
 * Marks a URL as used, or refuses it (403) when it already was. Called before the body is read, so
 * two replays racing each other cannot both write; `releaseUpload` un-spends it when the upload
 * fails, so the client's retry of a broken transfer still works.
 */
export async function spendUpload(db: Orm, grant: UploadGrant, now: number): Promise<void> {
  await db.execute(sql`delete from wandb_secrets where name like ${`${SPENT_PREFIX}%`} and value < ${expiryText(now)}`);
  const claimed = await rows<{ name: string }>(
    db,
    sql`insert into wandb_secrets (name, value) values (${SPENT_PREFIX + grant.id}, ${expiryText(grant.expires)})
        on conflict (name) do nothing returning name`,
  );
  if (!claimed.length) throw new MlflowError('PERMISSION_DENIED', 'Upload URL has already been used; ask for a new one');
}

// Fixed-width digits compare as text in numeric order, so no cast can meet the signing key's hex value.
const expiryText = (ms: number) => String(Math.max(0, Math.floor(ms))).padStart(16, '0');

export async function releaseUpload(db: Orm, grant: UploadGrant): Promise<void> {
  await db.execute(sql`delete from wandb_secrets where name = ${SPENT_PREFIX + grant.id}`);
}
