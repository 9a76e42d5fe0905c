import { sql } from 'drizzle-orm';
import { rows } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { invalidParam } from '../../errors.js';
import { readManifestJson, writeManifestJson } from './artifacts-blobs.js';
import type { ArtifactRow } from './artifacts.js';

// Incremental artifacts (`wandb.Artifact(..., incremental=True)`): wandb-core uploads a manifest
// holding only the new and changed entries and names the version it builds on
// (createArtifactManifest type INCREMENTAL or PATCH, baseArtifactID). The commit turns it into the
// full manifest the version is read with: the base's entries, overlaid with the uploaded ones.

const PARTIAL = new Set(['INCREMENTAL', 'PATCH']);

/** createArtifactManifest: remember a partial manifest and its base (same collection, committed). */
export async function recordManifestBase(deps: Deps, a: ArtifactRow, type: string | null, baseId: number | null): Promise<void> {
  if (!type || !PARTIAL.has(type) || baseId === null) return;
  const [base] = await rows<{ collection_id: number; state: string }>(deps.db, sql`select collection_id, state from wandb_artifacts where id = ${baseId}`);
  if (!base || Number(base.collection_id) !== a.collection_id || base.state !== 'COMMITTED') {
    throw invalidParam(`The base of an ${type.toLowerCase()} manifest must be a committed version of '${a.collection_name}'`);
  }
  await deps.db.execute(sql`update wandb_artifacts set manifest_type = ${type}, base_artifact_id = ${baseId} where id = ${a.id} and state = 'PENDING'`);
}

/** Before a commit: the uploaded partial manifest becomes base + changes (again on a retry: same result). */
export async function completePartialManifest(deps: Deps, a: ArtifactRow): Promise<void> {
  const [row] = await rows<{ manifest_type: string | null; base_artifact_id: number | null }>(deps.db, sql`select manifest_type, base_artifact_id from wandb_artifacts where id = ${a.id}`);
  if (!row?.manifest_type || !PARTIAL.has(row.manifest_type) || row.base_artifact_id === null) return;
  const patch = await readManifestJson(deps, a.id);
  const base = await readManifestJson(deps, Number(row.base_artifact_id));
  const merged = { ...base, ...patch, contents: { ...(base.contents ?? {}), ...(patch.contents ?? {}) } };
  await writeManifestJson(deps, a.id, Buffer.from(JSON.stringify(merged)));
}
