import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { rows } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { invalidParam, MlflowError, notFound } from '../../errors.js';
import { blobExists, fileKey, hashing, MD5_B64, md5Hex, recordBlob } from './artifacts-blobs.js';
import { signUpload, verifyUpload } from './upload-tokens.js';

// Multipart artifact uploads. wandb-core sends a file of 2 GiB or more (its fixed threshold) in
// parts of 100 MiB: CreateArtifactFiles names each part's MD5, the server answers with one URL per
// part, the client PUTs the parts (in parallel, each answered with an ETag) and then calls
// CompleteMultipartUploadArtifact. Parts go through Cairn into the blob store (folder or bucket)
// under wandb-artifacts/uploads/<upload>/<part>; completing streams them, in order, into the file's
// MD5 key, checking the whole file's MD5 on the way, and removes them.
//
// The upload keeps no row: its uploadID is a signed token naming the artifact, the file's MD5, the
// part count and a random folder, and each part URL is a signed token naming its part's MD5.

const MAX_PARTS = 10_000;
const HEX_MD5 = /^[0-9a-f]{32}$/;
const UPLOADS = 'wandb-artifacts/uploads';
const DAY_MS = 24 * 3600 * 1000;

export interface PartSpec {
  partNumber: number;
  hexMD5: string;
}

interface UploadClaim {
  md5: string;
  folder: string;
  parts: number;
}

interface PartClaim {
  folder: string;
  part: number;
  hex: string;
}

const partKey = (folder: string, part: number) => `${UPLOADS}/${folder}/${part}`;

function checkParts(parts: unknown): PartSpec[] {
  if (!Array.isArray(parts) || parts.length < 1 || parts.length > MAX_PARTS) {
    throw invalidParam(`A multipart upload needs between 1 and ${MAX_PARTS} parts`);
  }
  const sorted = (parts as PartSpec[]).slice().sort((a, b) => Number(a.partNumber) - Number(b.partNumber));
  sorted.forEach((p, i) => {
    if (Number(p.partNumber) !== i + 1) throw invalidParam(`Multipart upload parts must be numbered 1 to ${sorted.length} once each`);
  });
  return sorted.map((p) => ({ partNumber: Number(p.partNumber), hexMD5: String(p.hexMD5).replace(/"/g, '').toLowerCase() }));
}

/** The uploadID and part URLs for a file announced with its parts' MD5s. */
export async function startMultipartUpload(
  deps: Deps,
  artifactId: number,
  md5: string,
  parts: unknown,
  baseUrl: string,
): Promise<{ uploadID: string; uploadUrlParts: { partNumber: number; uploadUrl: string }[] }> {
  if (!MD5_B64.test(md5)) throw invalidParam(`Invalid file md5 '${md5.slice(0, 40)}': expected base64 MD5`);
  const specs = checkParts(parts);
  for (const p of specs) if (!HEX_MD5.test(p.hexMD5)) throw invalidParam(`Part ${p.partNumber} has an invalid hexMD5`);
  const folder = randomBytes(16).toString('hex');
  // wandb 0.31 cannot ask for fresh part URLs, and it queues every part at once: a slow link may
  // reach the last parts long after the configured TTL. A part URL can only write bytes matching
  // the MD5 it names into this upload's scratch folder, so a day's floor risks little.
  const ttl = Math.max(deps.config.wandbUploadUrlTtl * 1000, DAY_MS);
  const claim: UploadClaim = { md5, folder, parts: specs.length };
  const uploadID = await signUpload(deps.db, String(artifactId), JSON.stringify(claim), deps.now(), ttl, 'artifact-multipart');
  const uploadUrlParts = [];
  for (const p of specs) {
    const part: PartClaim = { folder, part: p.partNumber, hex: p.hexMD5 };
    const token = await signUpload(deps.db, String(artifactId), JSON.stringify(part), deps.now(), ttl, 'artifact-part');
    uploadUrlParts.push({ partNumber: p.partNumber, uploadUrl: `${baseUrl}/wandb-artifact-part/${token}` });
  }
  return { uploadID, uploadUrlParts };
}

/**
 * The PUT behind a part URL: stored when its bytes hash to the MD5 the part was announced with.
 * Returns the part's ETag (its hex MD5, quoted as S3 quotes it), which the client hands back on
 * completion. A repeated PUT of the same part rewrites the same bytes, so retries are harmless.
 */
export async function storeArtifactPart(deps: Deps, token: string, body: Readable): Promise<string> {
  const grant = await verifyUpload(deps.db, token, deps.now(), 'artifact-part');
  const found = await rows<{ state: string }>(deps.db, sql`select state from wandb_artifacts where id = ${Number(grant.runId)}`);
  if (!found.length || found[0].state === 'DELETED') throw notFound(`Artifact ${grant.runId} not found`);
  const claim = JSON.parse(grant.path) as PartClaim;
  const key = partKey(claim.folder, claim.part);
  const h = hashing(body);
  await deps.blobs.put(key, h.stream);
  const hex = Buffer.from(h.result().md5, 'base64').toString('hex');
  if (hex !== claim.hex) {
    await deps.blobs.delete(key);
    throw invalidParam(`Digest mismatch: part ${claim.part} has MD5 ${hex}, it was announced with ${claim.hex}`);
  }
  return `"${hex}"`;
}

/** Parts streamed one after another, opened only when the one before is read. */
function concatenated(deps: Deps, folder: string, parts: number): Readable {
  return Readable.from(
    (async function* () {
      for (let part = 1; part <= parts; part++) {
        let obj;
        try {
          obj = await deps.blobs.get(partKey(folder, part));
        } catch (err) {
          if (err instanceof MlflowError && err.code === 'RESOURCE_DOES_NOT_EXIST') throw invalidParam(`Part ${part} of the multipart upload was never uploaded`);
          throw err;
        }
        for await (const chunk of obj.body) yield chunk as Buffer;
      }
    })(),
    { objectMode: false },
  );
}

/**
 * CompleteMultipartUploadArtifact: joins the parts into the file's key. The joined bytes must hash
 * to the MD5 the file was announced with, or nothing is kept (the parts neither).
 */
export async function completeMultipartUpload(
  deps: Deps,
  artifactId: number,
  input: { uploadID: string; storagePath: string; completedParts: unknown },
): Promise<{ digest: string }> {
  const grant = await verifyUpload(deps.db, String(input.uploadID), deps.now(), 'artifact-multipart');
  if (grant.runId !== String(artifactId)) throw new MlflowError('PERMISSION_DENIED', 'This multipart upload belongs to another artifact');
  const claim = JSON.parse(grant.path) as UploadClaim;
  if (input.storagePath !== fileKey(claim.md5)) throw invalidParam(`storagePath '${String(input.storagePath).slice(0, 200)}' is not the one this upload was given`);
  if (checkParts(input.completedParts).length !== claim.parts) throw invalidParam(`The upload has ${claim.parts} parts, ${(input.completedParts as unknown[]).length} were completed`);
  const folder = `${UPLOADS}/${claim.folder}`;
  // The parts stay while the store fails (the client's retry of this call can still join them),
  // and go once the file is stored or the join proved them wrong.
  const dropParts = () => deps.blobs.delete(folder).catch(() => {});
  if (await blobExists(deps, claim.md5)) {
    await dropParts();
    return { digest: claim.md5 };
  }
  const key = fileKey(claim.md5);
  const joined = concatenated(deps, claim.folder, claim.parts);
  const h = hashing(joined);
  try {
    await deps.blobs.put(key, h.stream);
  } catch (err) {
    // The client's retry of a completion that outran its timeout races the first call: when the
    // first stored the file and dropped the parts under this one, the retry has succeeded too.
    if (await blobExists(deps, claim.md5)) return { digest: claim.md5 };
    // The put saw the stream fail: a missing part is the client's error, not the store's.
    if (joined.errored instanceof MlflowError) throw joined.errored;
    throw err;
  }
  const { md5, size } = h.result();
  if (md5 !== claim.md5) {
    if (!(await blobExists(deps, claim.md5))) await deps.blobs.delete(key);
    await dropParts();
    throw invalidParam(`Digest mismatch: the joined parts have MD5 ${md5Hex(md5)}, the file was announced with ${md5Hex(claim.md5)}`);
  }
  await recordBlob(deps, md5, size);
  await dropParts();
  return { digest: md5 };
}
