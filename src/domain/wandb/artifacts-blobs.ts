import { createHash } from 'node:crypto';
import { pipeline, Transform, type Readable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { openRanged } from '../../blobs/range.js';
import type { BlobBody, BlobObject } from '../../blobs/store.js';

type RangedObject = Awaited<ReturnType<typeof openRanged>>;
import { rows } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { invalidParam, MlflowError, notFound } from '../../errors.js';
import { releaseUpload, signUpload, spendUpload, verifyUpload } from './upload-tokens.js';

// Artifact bytes in the blob store (deps.blobs, the folder or bucket behind mlflow-artifacts):
// files by MD5 under wandb-artifacts/md5/<hex>, manifests under wandb-artifacts/manifests/<uuid>.json.
// Uploads go through signed URLs like run files (wandb-core PUTs them without credentials); a file
// whose bytes do not hash to the MD5 it was announced with is refused and not kept.

const PREFIX = 'wandb-artifacts';
export const md5Hex = (b64: string) => Buffer.from(b64, 'base64').toString('hex');
export const fileKey = (md5: string) => `${PREFIX}/md5/${md5Hex(md5)}`;
async function manifestKey(deps: Deps, artifactId: number): Promise<string> {
  const found = await rows<{ manifest_key: string }>(deps.db, sql`select manifest_key from wandb_artifacts where id = ${artifactId}`);
  if (!found.length) throw notFound(`Artifact ${artifactId} not found`);
  return found[0].manifest_key;
}
const MAX_MANIFEST_BYTES = 256 * 1024 * 1024;
export const MD5_B64 = /^[A-Za-z0-9+/]{22}==$/;

export interface ManifestFile {
  path: string;
  md5: string;
  size: number;
  /** Set for a reference entry: the URI its bytes stay at (the client fetches them itself). */
  ref?: string | null;
}

// The schemes wandb 0.31 has storage handlers for; a reference the client can never load is refused.
const REF_SCHEME = /^(s3|gs|az|file|https?):\/\/./i;
const MAX_REF = 4096;

/**
 * Whether the bytes for an MD5 are stored: recorded after a checked upload AND still in the store.
 * The store is asked too because it may not be the one the record was made for (a store swapped or
 * emptied under the same database); a record without its object is dropped, so the next
 * CreateArtifactFiles asks the client for the bytes again.
 */
export async function blobExists(deps: Deps, md5: string): Promise<boolean> {
  if (!(await rows(deps.db, sql`select 1 from wandb_artifact_blobs where md5 = ${md5}`)).length) return false;
  try {
    await deps.blobs.head(fileKey(md5));
    return true;
  } catch (err) {
    if (!(err instanceof MlflowError) || err.code !== 'RESOURCE_DOES_NOT_EXIST') throw err;
    await deps.db.execute(sql`delete from wandb_artifact_blobs where md5 = ${md5}`);
    return false;
  }
}

export async function fileUploadUrl(deps: Deps, artifactId: number, md5: string, baseUrl: string): Promise<string> {
  if (!MD5_B64.test(md5)) throw invalidParam(`Invalid file md5 '${md5.slice(0, 40)}': expected base64 MD5`);
  return `${baseUrl}/wandb-artifact-upload/${await signUpload(deps.db, String(artifactId), md5, deps.now(), deps.config.wandbUploadUrlTtl * 1000, 'artifact-file')}`;
}

export async function manifestUploadUrl(deps: Deps, artifactId: number, baseUrl: string): Promise<string> {
  return `${baseUrl}/wandb-artifact-upload/${await signUpload(deps.db, String(artifactId), 'manifest', deps.now(), deps.config.wandbUploadUrlTtl * 1000, 'artifact-manifest')}`;
}

export async function artifactFileUrl(deps: Deps, artifactId: number, md5: string, baseUrl: string): Promise<string> {
  return `${baseUrl}/wandb-artifact-file/${await signUpload(deps.db, String(artifactId), md5, deps.now(), deps.config.wandbUploadUrlTtl * 1000, 'artifact-read')}`;
}

export async function manifestDownloadUrl(deps: Deps, artifactId: number, baseUrl: string): Promise<string> {
  return `${baseUrl}/wandb-artifact-manifest/${await signUpload(deps.db, String(artifactId), 'manifest', deps.now(), deps.config.wandbUploadUrlTtl * 1000, 'manifest-read')}`;
}

export function hashing(body: Readable): { stream: Transform; result: () => { md5: string; size: number } } {
  const hash = createHash('md5');
  let size = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      hash.update(chunk);
      done(null, chunk);
    },
  });
  // pipeline listens on both streams: a body that fails before the consumer has attached to `stream`
  // (a multipart join whose first part is missing fails at once) leaves `stream` errored, which the
  // consumer then reads, instead of an 'error' event nobody hears, which ends the process.
  pipeline(body, stream, () => {});
  return { stream, result: () => ({ md5: hash.digest('base64'), size }) };
}

/** The PUT behind an artifact upload URL: a file (checked against its MD5) or the manifest. */
export async function storeArtifactUpload(deps: Deps, token: string, body: Readable): Promise<void> {
  const grant = await verifyUpload(deps.db, token, deps.now(), ['artifact-file', 'artifact-manifest']);
  const artifactId = Number(grant.runId);
  const found = await rows<{ state: string }>(deps.db, sql`select state from wandb_artifacts where id = ${artifactId}`);
  if (!found.length || found[0].state === 'DELETED') throw notFound(`Artifact ${artifactId} not found`);
  if (grant.kind === 'artifact-manifest') {
    if (found[0].state !== 'PENDING') throw new MlflowError('INVALID_STATE', `Artifact ${artifactId} is already committed`);
    // A manifest URL works once, as run-file URLs do: a replay could otherwise swap the manifest of
    // a version not yet committed. A failed transfer un-spends it, so the client's retry still works.
    await spendUpload(deps.db, grant, deps.now());
    try {
      await deps.blobs.put(await manifestKey(deps, artifactId), body, 'application/json');
    } catch (err) {
      await releaseUpload(deps.db, grant).catch(() => {});
      throw err;
    }
    return;
  }
  await storeArtifactBlob(deps, grant.path, body);
}

/**
 * Stores the bytes of an artifact file under its MD5 (base64), unless they are stored already:
 * bytes that do not hash to that MD5 are refused and not kept. Returns whether it wrote them.
 */
export async function storeArtifactBlob(deps: Deps, announced: string, body: Readable): Promise<boolean> {
  if (await blobExists(deps, announced)) {
    body.resume();
    return false;
  }
  const key = fileKey(announced);
  const h = hashing(body);
  await deps.blobs.put(key, h.stream);
  const { md5, size } = h.result();
  if (md5 !== announced) {
    // Only this upload could have written the key: blobs are recorded after their check passes.
    if (!(await blobExists(deps, announced))) await deps.blobs.delete(key);
    throw invalidParam(`Digest mismatch: the uploaded bytes have MD5 ${md5}, the file was announced with ${announced}`);
  }
  await recordBlob(deps, md5, size);
  return true;
}

/** Marks the bytes for an MD5 as stored: only after they were checked against it. */
export async function recordBlob(deps: Deps, md5: string, size: number): Promise<void> {
  await deps.db.execute(sql`insert into wandb_artifact_blobs (md5, size, created_at) values (${md5}, ${size}, ${deps.now()}) on conflict (md5) do nothing`);
}

/**
 * The manifest's entries and their count. Files must have been uploaded (checked MD5); references
 * carry no bytes here, only their URI and the digest the client computed (ETag, MD5 or the URL).
 */
type ManifestJson = { contents?: Record<string, { digest?: unknown; size?: unknown; ref?: unknown }> } & Record<string, unknown>;

/** A version's uploaded manifest, parsed (bounded in size). */
export async function readManifestJson(deps: Deps, artifactId: number): Promise<ManifestJson> {
  let obj: BlobObject;
  try {
    obj = await deps.blobs.get(await manifestKey(deps, artifactId));
  } catch (err) {
    if (err instanceof MlflowError && err.code === 'RESOURCE_DOES_NOT_EXIST') throw invalidParam(`Artifact ${artifactId} has no uploaded manifest`);
    throw err;
  }
  if (obj.size > MAX_MANIFEST_BYTES) throw invalidParam(`Artifact manifest exceeds ${MAX_MANIFEST_BYTES} bytes`);
  const chunks: Buffer[] = [];
  for await (const c of obj.body) chunks.push(c as Buffer);
  try {
    const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    return parsed as ManifestJson;
  } catch {
    throw invalidParam(`Artifact ${artifactId} has a manifest that is not a JSON object`);
  }
}

export async function writeManifestJson(deps: Deps, artifactId: number, body: BlobBody): Promise<void> {
  await deps.blobs.put(await manifestKey(deps, artifactId), body, 'application/json');
}

export async function readManifest(deps: Deps, artifactId: number): Promise<{ files: ManifestFile[]; entryCount: number }> {
  const manifest = await readManifestJson(deps, artifactId);
  const contents = manifest.contents ?? {};
  const files: ManifestFile[] = [];
  for (const [path, entry] of Object.entries(contents)) {
    if (entry.ref !== undefined && entry.ref !== null) {
      if (typeof entry.ref !== 'string' || entry.ref.length > MAX_REF || !REF_SCHEME.test(entry.ref)) {
        throw invalidParam(`Manifest entry '${path}' has an unsupported reference '${String(entry.ref).slice(0, 200)}'`);
      }
      const digest = typeof entry.digest === 'string' && entry.digest ? entry.digest.slice(0, MAX_REF) : entry.ref;
      files.push({ path, md5: digest, size: typeof entry.size === 'number' ? entry.size : 0, ref: entry.ref });
      continue;
    }
    if (typeof entry.digest !== 'string' || !MD5_B64.test(entry.digest)) throw invalidParam(`Manifest entry '${path}' has no valid digest`);
    if (!(await blobExists(deps, entry.digest))) throw invalidParam(`Manifest entry '${path}' was never uploaded (md5 ${entry.digest})`);
    files.push({ path, md5: entry.digest, size: typeof entry.size === 'number' ? entry.size : 0 });
  }
  return { files, entryCount: Object.keys(contents).length };
}

/** GET behind a manifest download URL. */
export async function openManifest(deps: Deps, token: string): Promise<BlobObject> {
  const grant = await verifyUpload(deps.db, token, deps.now(), 'manifest-read');
  return deps.blobs.get(await manifestKey(deps, Number(grant.runId)));
}

/**
 * A file of a committed version in a project, by MD5 hex (the client's artifactsV2 download path):
 * only bytes some version of that project lists are served.
 */
export async function openProjectFile(deps: Deps, experimentId: number, hex: string, range?: string): Promise<RangedObject> {
  if (!/^[0-9a-f]{32}$/.test(hex)) throw notFound('No such artifact file');
  const md5 = Buffer.from(hex, 'hex').toString('base64');
  const found = await rows(
    deps.db,
    sql`select 1 from wandb_artifact_files f join wandb_artifacts a on a.id = f.artifact_id join wandb_artifact_collections c on c.id = a.collection_id
        where f.md5 = ${md5} and f.ref is null and c.experiment_id = ${experimentId} and a.state = 'COMMITTED' limit 1`,
  );
  if (!found.length) throw notFound('No such artifact file');
  return openRanged(deps.blobs, fileKey(md5), range);
}

/**
 * GET behind a file URL of `Artifact.files`: the bytes, while the version still lists them. The
 * client fetches a file of 2 GiB or more in parallel 100 MiB ranges, so a Range is honoured.
 */
export async function openArtifactFile(deps: Deps, token: string, range?: string): Promise<RangedObject> {
  const grant = await verifyUpload(deps.db, token, deps.now(), 'artifact-read');
  const found = await rows(
    deps.db,
    sql`select 1 from wandb_artifact_files f join wandb_artifacts a on a.id = f.artifact_id where f.artifact_id = ${Number(grant.runId)} and f.md5 = ${grant.path} and f.ref is null and a.state = 'COMMITTED' limit 1`,
  );
  if (!found.length) throw notFound('No such artifact file');
  return openRanged(deps.blobs, fileKey(grant.path), range);
}

const MAX_PAGE = 10_000;

export async function listArtifactFiles(
  deps: Deps,
  artifactId: number,
  opts: { after: string | null; first: number | null; names: (string | null)[] | null },
): Promise<{ files: ManifestFile[]; hasNextPage: boolean }> {
  const first = opts.first ?? 5000;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) throw invalidParam(`first must be between 1 and ${MAX_PAGE}, got ${first}`);
  const names = (opts.names ?? []).filter((n): n is string => typeof n === 'string');
  const conds = [sql`artifact_id = ${artifactId}`];
  if (names.length) conds.push(sql`path in (${sql.join(names.map((n) => sql`${n}`), sql`, `)})`);
  if (opts.after) conds.push(sql`path > ${opts.after}`);
  const found = await rows<ManifestFile>(deps.db, sql`select path, md5, size, ref from wandb_artifact_files where ${sql.join(conds, sql` and `)} order by path limit ${first + 1}`);
  return { files: found.slice(0, first).map((f) => ({ ...f, size: Number(f.size) })), hasNextPage: found.length > first };
}
