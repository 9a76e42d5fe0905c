import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { rows, type Orm } from '../../db/connect.js';
import { MlflowError } from '../../errors.js';

// wandb-core uploads run files with a plain PUT that carries no credentials, so the URL Cairn hands
// out in CreateRunFiles is its own credential: the run, the file path and an expiry, signed with an
// HMAC key that lives in the database (one key for every Cairn process, created on first use).

const SECRET_NAME = 'upload-url-hmac';
const TTL_MS = 24 * 3600_000;

export interface UploadGrant {
  runId: string;
  path: string;
  expires: number;
}

/**
 * What a token lets its bearer do. Upload tokens carry no kind (those already handed out stay
 * valid); others name theirs, so a download URL can never be replayed as an upload and back.
 */
export type GrantKind = 'upload' | 'download' | 'artifact-file' | 'artifact-manifest' | 'manifest-read' | 'artifact-read';

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

export async function signUpload(db: Orm, runId: string, path: string, now: number, kind: GrantKind = 'upload'): Promise<string> {
  const claims = { r: runId, p: path, e: now + TTL_MS, ...(kind === 'upload' ? {} : { k: kind }) };
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
  return { runId: grant.r, path: grant.p, expires: grant.e, kind: granted };
}
