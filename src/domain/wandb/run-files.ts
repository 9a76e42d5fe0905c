import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { artifactKey, joinKey } from '../../blobs/keys.js';
import type { BlobStore } from '../../blobs/store.js';
import { rows } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { MlflowError, notFound } from '../../errors.js';
import { proxiedKeyOf } from '../artifacts-location.js';
import { releaseUpload, signUpload, spendUpload, verifyUpload } from './upload-tokens.js';
import type { WandbRunRow } from './run-store.js';

// Run files (wandb.save, media, config.yaml, requirements.txt, output.log, wandb-summary.json, …)
// are the run's MLflow artifacts, at the same relative path as in W&B's Files tab, so
// `mlflow.artifacts.download_artifacts(run_id=…, artifact_path="model.pt")` finds a saved file.

/** The store and key prefix of a run's artifact root, when Cairn itself can write there. */
export function runArtifactStore(deps: Deps, artifactUri: string): { store: BlobStore; baseKey: string } | undefined {
  try {
    const proxied = proxiedKeyOf(artifactUri);
    if (proxied !== undefined) return { store: deps.blobs, baseKey: proxied };
    const root = deps.config.defaultArtifactRoot.replace(/\/+$/, '');
    if (deps.artifactRootBlobs && artifactUri.startsWith(`${root}/`)) {
      return { store: deps.artifactRootBlobs, baseKey: artifactKey(artifactUri.slice(root.length + 1), { decoded: true, allowRoot: true }) };
    }
  } catch (err) {
    if (!(err instanceof MlflowError)) throw err;
  }
  return undefined;
}

/** The artifact store of the active W&B run a signed URL was granted for (404 once it is gone). */
export async function activeRunStore(deps: Deps, runId: string): Promise<{ store: BlobStore; baseKey: string } | undefined> {
  const found = await rows<{ artifact_uri: string }>(
    deps.db,
    sql`select r.artifact_uri from runs r join wandb_runs w on w.run_id = r.run_id where r.run_id = ${runId} and r.lifecycle_stage = 'active'`,
  );
  if (!found.length) throw notFound(`Run ${runId} not found`);
  return runArtifactStore(deps, found[0].artifact_uri);
}

export function fileKey(path: string): string | undefined {
  try {
    return artifactKey(path, { decoded: true });
  } catch (err) {
    if (err instanceof MlflowError) return undefined;
    throw err;
  }
}

/**
 * CreateRunFiles: one upload URL per requested file, in order (the client drops the whole batch
 * otherwise). A path Cairn refuses, or a run whose artifacts live where Cairn cannot write, gets
 * a null URL, which the client skips with a warning.
 */
export async function uploadUrls(deps: Deps, run: WandbRunRow, files: string[], baseUrl: string): Promise<{ name: string; uploadUrl: string | null }[]> {
  const target = runArtifactStore(deps, run.artifact_uri);
  const now = deps.now();
  return Promise.all(
    files.map(async (name) => {
      const key = target ? fileKey(name) : undefined;
      if (!key) return { name, uploadUrl: null };
      return { name, uploadUrl: `${baseUrl}/wandb-upload/${await signUpload(deps.db, run.run_id, key, now, deps.config.wandbUploadUrlTtl * 1000)}` };
    }),
  );
}

/** The PUT behind an upload URL: streams the body into the run's artifacts, then records the file. */
export async function storeUpload(deps: Deps, token: string, body: Readable): Promise<{ runId: string; path: string; size: number }> {
  // Listen at once: a client that drops the connection during the lookups below must not leave an
  // 'error' nobody handles (that ends the process).
  let broken: Error | undefined;
  body.on('error', (err) => {
    broken ??= err;
  });
  const grant = await verifyUpload(deps.db, token, deps.now());
  const target = await activeRunStore(deps, grant.runId);
  const key = fileKey(grant.path);
  if (!target || !key) throw notFound(`Run ${grant.runId} has no artifact store Cairn can write to`);
  await spendUpload(deps.db, grant, deps.now());
  try {
    if (broken || body.destroyed) throw broken ?? new Error('The upload was aborted');
    const size = await storeRunFile(deps, grant.runId, target, key, body);
    return { runId: grant.runId, path: key, size };
  } catch (err) {
    await releaseUpload(deps.db, grant).catch(() => {});
    throw err;
  }
}

/**
 * Streams one run file into the run's store and records it (size and MD5, as the public API's File
 * reports them). Shared by the client's uploads and `cairn import wandb`; rewriting a file replaces it.
 */
export async function storeRunFile(deps: Deps, runId: string, target: { store: BlobStore; baseKey: string }, key: string, body: Readable): Promise<number> {
  let size = 0;
  // The MD5 is what the public API's File.md5 reports; hashing while streaming costs no extra read.
  const md5 = createHash('md5');
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      md5.update(chunk);
      done(null, chunk);
    },
  });
  body.on('error', (err) => counter.destroy(err));
  // The store attaches its own consumer only after some I/O of its own; a body that fails before
  // then must not make `counter` emit an 'error' nobody listens to. The store still sees it.
  counter.on('error', () => {});
  await target.store.put(joinKey(target.baseKey, key), body.pipe(counter));
  const digest = md5.digest('base64');
  await deps.db.execute(sql`insert into wandb_files (run_id, path, size, md5, updated_at) values (${runId}, ${key}, ${size}, ${digest}, ${deps.now()})
    on conflict (run_id, path) do update set size = excluded.size, md5 = excluded.md5, updated_at = excluded.updated_at`);
  return size;
}

/** The sizes of the files a run has, by path (an import skips those already there). */
export async function runFileSizes(deps: Deps, runId: string): Promise<Map<string, number>> {
  const found = await rows<{ path: string; size: number | string }>(deps.db, sql`select path, size from wandb_files where run_id = ${runId}`);
  return new Map(found.map((r) => [r.path, Number(r.size)]));
}
