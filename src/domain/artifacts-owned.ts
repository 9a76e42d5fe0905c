import { sql } from 'drizzle-orm';
import { artifactKey, joinKey } from '../blobs/keys.js';
import { rows } from '../db/connect.js';
import type { Deps } from '../deps.js';
import { invalidParam, MlflowError, notFound } from '../errors.js';
import { storeFor } from './artifacts-runs.js';
import { guessContentType } from './artifacts-mime.js';
import type { ArtifactDownload } from './artifacts.js';
import { checkRunId } from './ids.js';
import { getLoggedModel } from './registry/logged-models.js';
import { getDownloadUri } from './registry/model-versions.js';

// Downloads addressed by their owner rather than by store path: `/get-artifact?run_id&path` (the
// UI's artifact previews), `/model-versions/get-artifact` and a logged model's `artifacts/files`.
// Like the listings, they read only the stores Cairn was configured with.

async function openUnder(deps: Deps, rootUri: string, path: string | undefined, owner: 'run' | 'model'): Promise<ArtifactDownload> {
  if (!path) throw invalidParam('Invalid path');
  const rel = artifactKey(path, { decoded: true });
  const { store, baseKey } = storeFor(deps, rootUri, owner);
  const key = joinKey(baseKey, rel);
  const fileName = rel.slice(rel.lastIndexOf('/') + 1);
  const { body, size } = await store.get(key);
  return { body, size, fileName, contentType: guessContentType(fileName) };
}

async function runRoot(deps: Deps, runId: string): Promise<string> {
  checkRunId(runId);
  const found = await rows<{ artifact_uri: string }>(deps.db, sql`select artifact_uri from runs where run_id = ${runId}`);
  if (!found.length) throw notFound(`Run with id=${runId} not found`);
  return found[0].artifact_uri;
}

export async function openRunArtifact(deps: Deps, input: { run_id?: string; run_uuid?: string; path?: string }): Promise<ArtifactDownload> {
  const runId = input.run_id || input.run_uuid;
  // MLflow's own wording for an absent id (Python's None).
  if (!runId) throw notFound('Run with id=None not found');
  return openUnder(deps, await runRoot(deps, runId), input.path, 'run');
}

/** Refuses a request naming no version, and 404s a version that does not exist. */
export async function checkModelVersionArtifact(deps: Deps, input: { name?: string; version?: string }): Promise<string> {
  if (!input.name || !input.version) throw invalidParam('Registered model name and version are required.');
  return getDownloadUri(deps, input.name, input.version);
}

export async function openModelVersionArtifact(deps: Deps, input: { name?: string; version?: string; path?: string }): Promise<ArtifactDownload> {
  let uri = await checkModelVersionArtifact(deps, input);
  // A version registered from `runs:/<id>/<path>` lives in that run's artifacts.
  const runsUri = /^runs:\/([^/]+)\/?(.*)$/.exec(uri);
  if (runsUri) {
    const root = (await runRoot(deps, runsUri[1])).replace(/\/+$/, '');
    uri = runsUri[2] ? `${root}/${runsUri[2]}` : root;
  }
  return openUnder(deps, uri, input.path, 'model');
}

export async function openLoggedModelArtifact(deps: Deps, modelId: string, path: string | undefined): Promise<ArtifactDownload> {
  if (!path) throw new MlflowError('BAD_REQUEST', 'Request must include the "artifact_file_path" query parameter.');
  const model = await getLoggedModel(deps, modelId);
  return openUnder(deps, model.info.artifact_uri, path, 'model');
}

/** The UI's upload (`POST /ajax-api/2.0/mlflow/upload-artifact`) takes one file of at most this size, as MLflow's. */
export const UI_UPLOAD_MAX_BYTES = 10 * 1024 * 1024;
export const UI_UPLOAD_TOO_LARGE = 'Artifact size is too large. Max size is 10MB.';

/** What the UI upload names, checked in MLflow's order before the body is read. */
export function checkRunUpload(input: { run_id?: string; run_uuid?: string; path?: string }): { runId: string; rel: string } {
  const runId = input.run_id || input.run_uuid;
  if (!runId) throw invalidParam('Request must specify run_id or run_uuid.');
  if (!input.path) throw invalidParam('Request must specify path.');
  return { runId, rel: artifactKey(input.path, { decoded: true }) };
}

/**
 * Stores one file below a run's artifact root, in the store Cairn was configured with for it (the
 * UI's upload: evaluation tables and the like), once the route has read its body within the cap.
 */
export async function uploadRunArtifact(deps: Deps, target: { runId: string; rel: string }, data: Uint8Array): Promise<void> {
  if (!data.length) throw invalidParam('Request must specify data.');
  const { store, baseKey } = storeFor(deps, await runRoot(deps, target.runId), 'run');
  const fileName = target.rel.slice(target.rel.lastIndexOf('/') + 1);
  await store.put(joinKey(baseKey, target.rel), data, guessContentType(fileName));
}
