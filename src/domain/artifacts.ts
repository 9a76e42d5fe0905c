import type { Readable } from 'node:stream';
import { artifactKey, baseName, joinKey } from '../blobs/keys.js';
import type { BlobStore } from '../blobs/store.js';
import type { Deps } from '../deps.js';
import { invalidParam, MlflowError } from '../errors.js';
import { guessContentType } from './artifacts-mime.js';

/** FileInfo as the client reads it: directories carry no file_size. */
export interface FileInfoWire {
  path: string;
  is_dir: boolean;
  file_size?: number;
}

export const PRESIGNED_DOWNLOAD_TTL_SECONDS = 300;

// The client's fallback to a single PUT keys on this exact opening.
export const MULTIPART_UNSUPPORTED = 'Multipart upload is not supported for the current artifact repository';

/** The store behind the proxy, unless Cairn was started with --no-serve-artifacts. */
export function proxyStore(deps: Deps): BlobStore {
  if (!deps.config.serveArtifacts) {
    throw new MlflowError(
      'NOT_IMPLEMENTED',
      'The artifact proxy is disabled because Cairn runs with --no-serve-artifacts; clients write to the --default-artifact-root directly.',
    );
  }
  return deps.blobs;
}

/**
 * Streams the body into the store. A body the client abandons half-way is the client's error, and
 * leaves no object behind (the stores only publish a complete upload). The object's type is the
 * one downloads are served with, guessed from its name, whatever the client sent.
 */
export async function uploadArtifact(deps: Deps, key: string, body: Readable): Promise<void> {
  const store = proxyStore(deps);
  if (!key) throw invalidParam('Invalid path: a file path is required');
  try {
    await store.put(key, body, guessContentType(baseName(key)));
  } catch (err) {
    if (body.errored && !(err instanceof MlflowError && err.code !== 'TEMPORARILY_UNAVAILABLE')) {
      throw invalidParam(`Upload of '${key}' was interrupted before the body was complete`);
    }
    throw err;
  }
}

export interface ArtifactDownload {
  body?: Readable;
  size: number;
  fileName: string;
  contentType: string;
}

/** Opens the object for streaming; with headOnly, only its size is looked up (HEAD). */
export async function openArtifact(deps: Deps, key: string, headOnly = false): Promise<ArtifactDownload> {
  const store = proxyStore(deps);
  if (!key) throw invalidParam('Invalid path: a file path is required');
  const fileName = baseName(key);
  const contentType = guessContentType(fileName);
  if (headOnly) return { ...(await store.head(key)), fileName, contentType };
  const { body, size } = await store.get(key);
  return { body, size, fileName, contentType };
}

/** Children of a folder as basenames; [] for a file or a missing folder, as MLflow answers. */
export async function listArtifactDir(deps: Deps, key: string): Promise<FileInfoWire[]> {
  const entries = await proxyStore(deps).list(key);
  return entries.map((e) => (e.isDir ? { path: e.name, is_dir: true } : { path: e.name, is_dir: false, file_size: e.size ?? 0 }));
}

export async function deleteArtifacts(deps: Deps, key: string): Promise<void> {
  if (!key) throw invalidParam('Invalid path: a path is required');
  await proxyStore(deps).delete(key);
}

/**
 * The object key of a multipart upload: the URL names the folder, the body the file. Clients before
 * 3.18 sent their local path, possibly a Windows one, so only its last segment is kept.
 */
export function multipartKey(dirKey: string, fileName: string): string {
  const last = fileName.split(/[\\/]/).pop() ?? '';
  if (!last) throw invalidParam('Invalid path: the file name is empty');
  return joinKey(dirKey, artifactKey(last, { decoded: true }));
}

function multipartStore(deps: Deps) {
  const store = proxyStore(deps);
  if (!store.multipart) throw new MlflowError('NOT_IMPLEMENTED', `${MULTIPART_UNSUPPORTED}: the local folder store takes single PUTs.`);
  return store.multipart;
}

export const MAX_MULTIPART_PARTS = 10_000;

export async function createMultipartUpload(deps: Deps, dirKey: string, fileName: string, numParts: number) {
  const key = multipartKey(dirKey, fileName);
  if (!Number.isInteger(numParts) || numParts < 1 || numParts > MAX_MULTIPART_PARTS) {
    throw invalidParam(`Invalid value ${numParts} for parameter 'num_parts': it must be between 1 and ${MAX_MULTIPART_PARTS}`);
  }
  const { uploadId, parts } = await multipartStore(deps).create(key, numParts);
  return {
    upload_id: uploadId,
    credentials: parts.map((p) => ({ url: p.url, part_number: p.partNumber, headers: p.headers })),
  };
}

export async function completeMultipartUpload(
  deps: Deps,
  dirKey: string,
  input: { path: string; upload_id: string; parts: { part_number: number; etag: string }[] },
): Promise<void> {
  const key = multipartKey(dirKey, input.path);
  if (!input.parts.length) throw invalidParam("Missing value for required parameter 'parts'.");
  // S3 numbers parts 1..10,000 and needs each part's ETag; refusing the rest here answers a 400
  // instead of whatever the store makes of them.
  const seen = new Set<number>();
  for (const p of input.parts) {
    if (!Number.isInteger(p.part_number) || p.part_number < 1 || p.part_number > MAX_MULTIPART_PARTS || seen.has(p.part_number)) {
      throw invalidParam(`Invalid value ${p.part_number} for parameter 'parts.part_number': part numbers are distinct, from 1 to ${MAX_MULTIPART_PARTS}`);
    }
    if (!p.etag) throw invalidParam(`Missing value for parameter 'parts.etag' of part ${p.part_number}.`);
    seen.add(p.part_number);
  }
  await multipartStore(deps).complete(
    key,
    input.upload_id,
    input.parts.map((p) => ({ partNumber: p.part_number, etag: p.etag })),
  );
}

export async function abortMultipartUpload(deps: Deps, dirKey: string, input: { path: string; upload_id: string }): Promise<void> {
  const key = multipartKey(dirKey, input.path);
  await multipartStore(deps).abort(key, input.upload_id);
}

export async function presignedDownload(deps: Deps, key: string): Promise<{ url: string; headers: Record<string, string>; file_size: number }> {
  const store = proxyStore(deps);
  if (!store.presignGet) {
    throw new MlflowError('NOT_IMPLEMENTED', 'Presigned download URLs are not supported by the local folder store; download through the proxy.');
  }
  const { url, size } = await store.presignGet(key, PRESIGNED_DOWNLOAD_TTL_SECONDS);
  return { url, headers: {}, file_size: size };
}
