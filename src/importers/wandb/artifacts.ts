import type { Deps } from '../../deps.js';
import { collectionRowByName, updateCollection } from '../../domain/wandb/artifact-collections.js';
import { editTagsAndTtl } from '../../domain/wandb/artifact-tags-ttl.js';
import { artifactByClientId, artifactGid, commitArtifact, createArtifact, recordUse, setAliases, type ArtifactRow } from '../../domain/wandb/artifacts.js';
import { blobExists, storeArtifactBlob, writeManifestJson } from '../../domain/wandb/artifacts-blobs.js';
import { findRun } from '../../domain/wandb/run-store.js';
import { MlflowError } from '../../errors.js';
import { SourceError } from '../mlflow/source.js';
import type { Progress } from '../progress.js';
import type { WandbArtifactSource, WandbSrcCollection, WandbSrcRunRef, WandbSrcVersion } from './artifact-source.js';
import type { WandbServerSource } from './server-source.js';

export interface ArtifactCounts {
  artifactVersions: number;
  artifactFiles: number;
  artifactBytes: number;
  skipped: { what: string; why: string }[];
}

interface Ctx {
  deps: Deps;
  src: WandbArtifactSource;
  files: WandbServerSource;
  entity: string;
  project: string;
  dryRun: boolean;
  summary: ArtifactCounts;
  /** A domain call made as if the clock read the source's time. */
  at: (deps: Deps, iso: string | null | undefined) => Deps;
}

/**
 * Copies a project's artifacts: every collection with its committed versions (oldest first, so
 * version numbers come out the same when the source has no gaps), each version's aliases, tags,
 * TTL, description and metadata, its manifest (digests kept) and its files' bytes, streamed into
 * the blob store and checked against their MD5; and the lineage (the run that logged a version, the
 * runs that used it) where those runs are in Cairn. Idempotent: a version is found again by the
 * client id the import gives it (the source's artifact id), a file already stored is not fetched,
 * and a version is committed last, so an interrupted import resumes with it.
 */
export async function importArtifacts(
  deps: Deps,
  src: WandbArtifactSource,
  files: WandbServerSource,
  opts: { entity: string; project: string; dryRun: boolean; progress: Progress; at: Ctx['at'] },
  summary: ArtifactCounts,
): Promise<void> {
  const collections: WandbSrcCollection[] = [];
  for await (const c of src.collections(opts.entity, opts.project)) collections.push(c);
  opts.progress.phase(`artifacts of ${opts.project}`, collections.length);
  const ctx: Ctx = { deps, src, files, summary, ...opts };
  for (const c of collections) {
    const what = `artifact ${opts.entity}/${opts.project}/${c.name}`;
    if (c.portfolio) summary.skipped.push({ what, why: 'a linked collection (portfolio): its versions come over in the collections they were logged to' });
    else {
      try {
        await importCollection(ctx, c);
      } catch (err) {
        if (!(err instanceof SourceError || err instanceof MlflowError)) throw err;
        summary.skipped.push({ what, why: err.message });
      }
    }
    opts.progress.tick();
  }
}

async function importCollection(ctx: Ctx, c: WandbSrcCollection): Promise<void> {
  let dest: ArtifactRow | undefined;
  for (const v of await ctx.src.versions(ctx.entity, ctx.project, c)) {
    ctx.summary.artifactVersions++;
    if (ctx.dryRun) {
      ctx.summary.artifactFiles += v.fileCount;
      ctx.summary.artifactBytes += v.size;
      continue;
    }
    dest = await importVersion(ctx, c, v);
    if (dest.version_index !== v.versionIndex) {
      ctx.summary.skipped.push({ what: `artifact ${c.name}:v${v.versionIndex}`, why: `numbered v${dest.version_index} in Cairn (the source's version numbers have gaps: deleted versions)` });
    }
  }
  const row = dest && c.description ? await collectionRowByName(ctx.deps.db, dest.experiment_id, c.name) : undefined;
  if (row && row.description !== c.description) await updateCollection(ctx.deps, row, { name: null, description: c.description });
}

const clientId = (ctx: Ctx, v: WandbSrcVersion) => `cairn-import:${ctx.files.label}:${v.id}`;

async function destRun(ctx: Ctx, ref: Partial<WandbSrcRunRef> | null | undefined): Promise<string | null> {
  if (!ref?.name || !ref.project) return null;
  return (await findRun(ctx.deps, ref.project.name, ref.name, ref.project.entity.name))?.run_id ?? null;
}

async function importVersion(ctx: Ctx, c: WandbSrcCollection, v: WandbSrcVersion): Promise<ArtifactRow> {
  const aliases = v.aliases.filter((a) => (a.artifactCollection?.name ?? c.name) === c.name && a.alias !== 'latest').map((a) => a.alias);
  let dest = await artifactByClientId(ctx.deps.db, clientId(ctx, v));
  if (!dest) {
    const made = await createArtifact(ctx.at(ctx.deps, v.createdAt), {
      project: ctx.project,
      entity: ctx.entity,
      runId: v.createdBy?.__typename === 'Run' ? await destRun(ctx, v.createdBy) : null,
      type: v.type,
      name: c.name,
      digest: v.digest,
      description: v.description,
      metadata: v.metadata,
      aliases,
      clientId: clientId(ctx, v),
      historyStep: v.historyStep === null ? null : Number(v.historyStep),
    });
    dest = made.artifact;
  }
  if (dest.state !== 'COMMITTED') {
    await copyContents(ctx, v, dest);
    await editTagsAndTtl(ctx.deps, dest.id, { add: v.tags.map((t) => ({ tagName: t.name })), ttl: v.ttlIsInherited === false ? v.ttlDurationSeconds : undefined });
    dest = await commitArtifact(ctx.at(ctx.deps, v.createdAt), dest);
  } else {
    // Already there (a re-run): aliases are set to the source's, a moved alias moves.
    await setAliases(ctx.deps.db, dest.collection_id, dest.id, aliases);
  }
  for (const e of v.usedBy?.edges ?? []) {
    const runId = await destRun(ctx, e.node);
    if (runId) await recordUse(ctx.at(ctx.deps, v.createdAt), runId, dest.id, null);
  }
  ctx.summary.artifactFiles += v.fileCount;
  ctx.summary.artifactBytes += v.size;
  return dest;
}

/** The manifest (digests as the client computed them) and the bytes of every file it stores. */
async function copyContents(ctx: Ctx, v: WandbSrcVersion, dest: ArtifactRow): Promise<void> {
  const manifest = await ctx.src.manifest(v);
  let urls: Map<string, string> | undefined;
  for (const [path, entry] of Object.entries(manifest.contents)) {
    // The file's first version in the source; in Cairn, bytes are found by project and MD5.
    if (entry.birthArtifactID) entry.birthArtifactID = artifactGid(dest.id);
    if (entry.ref || (await blobExists(ctx.deps, entry.digest))) continue;
    urls ??= await ctx.src.fileUrls(v);
    const url = urls.get(entry.digest);
    if (!url) throw new SourceError(`${ctx.files.label}: artifact ${v.id} lists '${path}' but serves no URL for it`);
    await storeArtifactBlob(ctx.deps, entry.digest, await ctx.files.openFile({ name: path, sizeBytes: entry.size ?? 0, directUrl: url }));
  }
  await writeManifestJson(ctx.deps, dest.id, Buffer.from(JSON.stringify(manifest)));
}
