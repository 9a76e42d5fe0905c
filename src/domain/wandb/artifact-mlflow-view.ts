import { sql } from 'drizzle-orm';
import { joinKey } from '../../blobs/keys.js';
import { rows } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { MlflowError } from '../../errors.js';
import { md5Hex } from './artifacts-blobs.js';
import type { ArtifactRow } from './artifacts.js';
import { fileKey, runArtifactStore } from './run-files.js';

// The MLflow view of a W&B artifact: once a version is committed, its stored files are copied
// into the logging run's MLflow artifacts at `wandb-artifacts/<name>/v<N>/<path>`, so
// `mlflow.artifacts.download_artifacts(run_id=…, artifact_path="wandb-artifacts/<name>/v0")` and
// the UI's artifact browser see them. A copy (streamed, store to store) rather than a second
// listing path: every MLflow route, proxied or direct, then works unchanged. References are not
// copied (their bytes are elsewhere). Re-running is harmless: files already there are skipped, so
// a client retrying commitArtifact after a failed copy completes it.

export const MLFLOW_VIEW_PREFIX = 'wandb-artifacts';

export async function mirrorToLoggingRun(deps: Deps, a: ArtifactRow): Promise<void> {
  if (a.state !== 'COMMITTED' || a.run_id === null || a.version_index === null) return;
  const [run] = await rows<{ artifact_uri: string }>(deps.db, sql`select artifact_uri from runs where run_id = ${a.run_id} and lifecycle_stage = 'active'`);
  const target = run && runArtifactStore(deps, run.artifact_uri);
  if (!target) return;
  const files = await rows<{ path: string; md5: string; size: number }>(
    deps.db,
    sql`select path, md5, size from wandb_artifact_files where artifact_id = ${a.id} and ref is null order by path`,
  );
  for (const f of files) {
    const rel = fileKey(`${MLFLOW_VIEW_PREFIX}/${a.collection_name}/v${a.version_index}/${f.path}`);
    if (rel === undefined) continue; // a path MLflow's keys refuse stays W&B-only
    const key = joinKey(target.baseKey, rel);
    if (await sameSize(target.store, key, Number(f.size))) continue;
    const src = await deps.blobs.get(`wandb-artifacts/md5/${md5Hex(f.md5)}`);
    await target.store.put(key, src.body);
  }
}

async function sameSize(store: { head(key: string): Promise<{ size: number }> }, key: string, size: number): Promise<boolean> {
  try {
    return (await store.head(key)).size === size;
  } catch (err) {
    if (err instanceof MlflowError && err.code === 'RESOURCE_DOES_NOT_EXIST') return false;
    throw err;
  }
}
