import { afterProjectWrite, checkProject } from '../../auth/wandb.js';
import { invalidParam } from '../../errors.js';
import {
  collectionByName,
  collectionInProject,
  deleteArtifact,
  editAliases,
  updateArtifact,
  listVersions,
  runInputs,
  runOutputs,
  artifactByClientId,
  artifactById,
  artifactGid,
  collectionGid,
  commitArtifact,
  createArtifact,
  latestOf,
  parseArtifactGid,
  recordUse,
  type ArtifactRow,
} from '../../domain/wandb/artifacts.js';
import { completePartialManifest, recordManifestBase } from '../../domain/wandb/artifact-manifest-merge.js';
import { mirrorToLoggingRun } from '../../domain/wandb/artifact-mlflow-view.js';
import { linkArtifact, listPortfolio, memberByName } from '../../domain/wandb/artifact-links.js';
import { blobExists, fileKey, fileUploadUrl } from '../../domain/wandb/artifacts-blobs.js';
import { editTagsAndTtl, ttlFields } from '../../domain/wandb/artifact-tags-ttl.js';
import { completeMultipartUpload, startMultipartUpload } from '../../domain/wandb/artifact-multipart.js';
import { isoTime } from '../../domain/wandb/run-filters.js';
import { requireRun } from '../../domain/wandb/run-store.js';
import { artifactLineageResolvers } from './artifact-lineage-resolvers.js';
import { collectionFieldResolvers, collectionResolvers } from './artifact-collection-resolvers.js';
import type { GqlContext } from './resolvers.js';
import {
  aliasObjs,
  b64,
  artifactFor,
  collectionOf,
  connection,
  portfolioConnection,
  filesOf,
  manifestObj,
  memberObj,
  numArg,
  projectObj,
  str,
  wrap,
  type Args,
  type ArtifactObj,
  type CollectionObj,
  type TypeObj,
} from './artifact-objects.js';

// W&B Artifacts over GraphQL. Every entry point checks the project it touches: reads need
// experiment:read, logging and committing need experiment:edit (as run logging does). Fields of
// objects reached through a checked entry point need no further check.


function manifestArtifactId(gid: unknown): number {
  if (typeof gid !== 'string') throw invalidParam('artifactManifestID is required');
  const m = /^ArtifactManifest:(\d{1,15})$/.exec(Buffer.from(gid, 'base64').toString('utf8'));
  if (!m) throw invalidParam(`Invalid artifact manifest ID '${gid.slice(0, 64)}'`);
  return Number(m[1]);
}

function aliasNames(input: Args, collection: string): string[] {
  const list = Array.isArray(input.aliases) ? (input.aliases as { alias: string; artifactCollectionName: string }[]) : [];
  return [...new Set(list.filter((x) => x.artifactCollectionName === collection).map((x) => x.alias))].filter((x) => x !== 'latest');
}

export const artifactResolvers = {
  Query: {
    artifact: async (_s: unknown, args: Args, ctx: GqlContext) => {
      const a = await artifactFor(ctx, args.id, 'read');
      return wrap(a, ctx.user.name);
    },
    clientIDMapping: async (_s: unknown, args: Args, ctx: GqlContext) => {
      const a = await artifactByClientId(ctx.deps.db, String(args.clientID));
      if (!a) return null;
      await checkProject(ctx.deps, ctx.principal, a.project, 'read');
      return { serverID: artifactGid(a.id) };
    },
  },
  Mutation: {
    ...collectionResolvers.Mutation,
    createArtifact: async (_s: unknown, args: Args, ctx: GqlContext) => {
      const i = args.input as Args;
      const project = String(i.projectName);
      const entity = str(i.entityName) ?? ctx.defaultEntity;
      await checkProject(ctx.deps, ctx.principal, project, 'edit', entity);
      const names = Array.isArray(i.artifactCollectionNames) ? (i.artifactCollectionNames as string[]) : [];
      const name = names[0] ?? str(i.artifactCollectionName);
      if (!name) throw invalidParam('An artifact name is required (artifactCollectionNames)');
      const run = str(i.runName) ? await requireRun(ctx.deps, project, String(i.runName), entity) : null;
      const { artifact, projectCreated } = await createArtifact(ctx.deps, {
        project,
        entity,
        runId: run?.run_id ?? null,
        type: String(i.artifactTypeName),
        name,
        digest: String(i.digest),
        description: str(i.description),
        metadata: str(i.metadata),
        aliases: aliasNames(i, name),
        clientId: str(i.clientID),
        sequenceClientId: str(i.sequenceClientID),
        historyStep: typeof i.historyStep === 'number' ? i.historyStep : null,
      });
      await editTagsAndTtl(ctx.deps, artifact.id, { add: i.tags, ttl: i.ttlDurationSeconds });
      await afterProjectWrite(ctx.deps, ctx.principal, projectCreated, artifact.experiment_id);
      return { artifact: wrap((await artifactById(ctx.deps.db, artifact.id)) ?? artifact, str(i.entityName) ?? ctx.defaultEntity) };
    },
    createArtifactManifest: async (_s: unknown, args: Args, ctx: GqlContext) => {
      const i = args.input as Args;
      const a = await artifactFor(ctx, i.artifactID, 'edit');
      await recordManifestBase(ctx.deps, a, str(i.type), i.baseArtifactID ? parseArtifactGid(i.baseArtifactID) : null);
      return { artifactManifest: manifestObj(ctx, a, true) };
    },
    updateArtifactManifest: async (_s: unknown, args: Args, ctx: GqlContext) => {
      const i = args.input as Args;
      const a = await artifactFor(ctx, String(manifestArtifactId(i.artifactManifestID)), 'edit');
      return { artifactManifest: manifestObj(ctx, a, true) };
    },
    createArtifactFiles: async (_s: unknown, args: Args, ctx: GqlContext) => {
      const i = args.input as { artifactFiles: { artifactID: string; name: string; md5: string; uploadPartsInput?: unknown[] | null }[] };
      const checked = new Map<number, ArtifactRow>();
      const edges = [];
      for (const f of i.artifactFiles) {
        const id = parseArtifactGid(f.artifactID);
        let a = checked.get(id);
        if (!a) {
          a = await artifactFor(ctx, f.artifactID, 'edit');
          checked.set(id, a);
        }
        // Bytes already stored (any version, any project) need no upload: a null URL says so.
        const exists = await blobExists(ctx.deps, f.md5);
        // A file the client split into parts (2 GiB and more) gets a URL per part; the single
        // upload URL is still given, as the client reads a null one as "already stored".
        const multipart = !exists && f.uploadPartsInput?.length ? await startMultipartUpload(ctx.deps, a.id, f.md5, f.uploadPartsInput, ctx.baseUrl) : null;
        edges.push({
          node: {
            storagePath: fileKey(f.md5),
            uploadUrl: exists ? null : await fileUploadUrl(ctx.deps, a.id, f.md5, ctx.baseUrl),
            uploadHeaders: [],
            uploadMultipartUrls: multipart,
            artifact: wrap(a, ctx.user.name),
          },
        });
      }
      return { files: { edges } };
    },
    completeMultipartUploadArtifact: async (_s: unknown, args: Args, ctx: GqlContext) => {
      const i = args.input as { artifactID: string; uploadID: string; storagePath: string; completedParts: unknown };
      const a = await artifactFor(ctx, i.artifactID, 'edit');
      return completeMultipartUpload(ctx.deps, a.id, i);
    },
    commitArtifact: async (_s: unknown, args: Args, ctx: GqlContext) => {
      const i = args.input as Args;
      const a = await artifactFor(ctx, i.artifactID, 'edit');
      if (a.state === 'PENDING') await completePartialManifest(ctx.deps, a);
      const committed = await commitArtifact(ctx.deps, a);
      // Also on a repeated commit: a copy cut short by a store fault is finished by the retry.
      await mirrorToLoggingRun(ctx.deps, committed);
      return { artifact: wrap(committed, ctx.user.name) };
    },
    deleteArtifact: async (_s: unknown, args: Args, ctx: GqlContext) => {
      const i = args.input as Args;
      const a = await artifactFor(ctx, i.artifactID, 'edit');
      return { artifact: wrap(await deleteArtifact(ctx.deps, a, i.deleteAliases === true), ctx.user.name) };
    },
    updateArtifact: async (_s: unknown, args: Args, ctx: GqlContext) => {
      const i = args.input as Args;
      const a = await artifactFor(ctx, i.artifactID, 'edit');
      await editTagsAndTtl(ctx.deps, a.id, { add: i.tagsToAdd, remove: i.tagsToDelete, ttl: i.ttlDurationSeconds });
      return { artifact: wrap(await updateArtifact(ctx.deps, a, { description: str(i.description), metadata: str(i.metadata) }), ctx.user.name) };
    },
    addAliases: async (_s: unknown, args: Args, ctx: GqlContext) => {
      const i = args.input as { artifactID: string; aliases: { alias: string; artifactCollectionName: string }[] };
      const a = await artifactFor(ctx, i.artifactID, 'edit');
      await editAliases(ctx.deps, a, i.aliases.filter((x) => x.artifactCollectionName === a.collection_name).map((x) => x.alias), []);
      return { success: true };
    },
    deleteAliases: async (_s: unknown, args: Args, ctx: GqlContext) => {
      const i = args.input as { artifactID: string; aliases: { alias: string; artifactCollectionName: string }[] };
      const a = await artifactFor(ctx, i.artifactID, 'edit');
      await editAliases(ctx.deps, a, [], i.aliases.filter((x) => x.artifactCollectionName === a.collection_name).map((x) => x.alias));
      return { success: true };
    },
    linkArtifact: async (_s: unknown, args: Args, ctx: GqlContext) => {
      const i = args.input as Args;
      const a = await artifactFor(ctx, i.artifactID, 'read');
      const project = str(i.projectName);
      const name = str(i.artifactPortfolioName);
      if (!project || !name) throw invalidParam('linkArtifact needs projectName and artifactPortfolioName');
      const entity = str(i.entityName) ?? ctx.defaultEntity;
      await checkProject(ctx.deps, ctx.principal, project, 'edit', entity);
      const aliases = Array.isArray(i.aliases) ? (i.aliases as { alias: string }[]).map((x) => x.alias) : [];
      const { link, projectCreated } = await linkArtifact(ctx.deps, a, { project, entity, name, aliases });
      await afterProjectWrite(ctx.deps, ctx.principal, projectCreated, link.experimentId);
      return { versionIndex: link.versionIndex, artifactMembership: wrap(a, str(i.entityName) ?? ctx.defaultEntity, link) };
    },
    useArtifact: async (_s: unknown, args: Args, ctx: GqlContext) => {
      const i = args.input as Args;
      const project = String(i.projectName);
      const entity = str(i.entityName) ?? ctx.defaultEntity;
      await checkProject(ctx.deps, ctx.principal, project, 'edit', entity);
      const a = await artifactFor(ctx, i.artifactID, 'read');
      const run = await requireRun(ctx.deps, project, String(i.runName), entity);
      await recordUse(ctx.deps, run.run_id, a.id, str(i.usedAs));
      return { artifact: wrap(a, ctx.user.name) };
    },
  },
  Project: {
    ...collectionResolvers.Project,
    artifactCollectionMembership: async (p: { experimentId: number; name: string; entity: string }, args: Args, ctx: GqlContext) =>
      memberObj(await memberByName(ctx.deps.db, p.experimentId, p.name, String(args.name)), p.entity),
    artifactCollection: async (p: { experimentId: number; name: string; entity: string }, args: Args, ctx: GqlContext) => {
      const c = await collectionByName(ctx.deps.db, p.experimentId, String(args.name));
      const __typename = c?.portfolio ? 'ArtifactPortfolio' : 'ArtifactSequence';
      return c ? ({ __typename, id: c.id, name: c.name, experimentId: p.experimentId, project: p.name, entity: p.entity } satisfies CollectionObj) : null;
    },
    artifactType: (p: { experimentId: number; name: string; entity: string }, args: Args) => ({ experimentId: p.experimentId, project: p.name, entity: p.entity, name: String(args.name) }),
    artifact: async (p: { experimentId: number; name: string; entity: string }, args: Args, ctx: GqlContext) => {
      const m = await memberByName(ctx.deps.db, p.experimentId, p.name, String(args.name));
      return m ? wrap(m.a, p.entity) : null;
    },
  },
  ArtifactCollectionMembership: {
    id: ({ a, link }: ArtifactObj) => b64(`ArtifactCollectionMembership:${link ? `${link.collectionId}:` : ''}${a.id}`),
    versionIndex: ({ a, link }: ArtifactObj) => link?.versionIndex ?? a.version_index,
    createdAt: ({ a }: ArtifactObj) => isoTime(a.created_at),
    aliases: (o: ArtifactObj, _a: Args, ctx: GqlContext) => aliasObjs(o, ctx),
    artifactCollection: (o: ArtifactObj) => collectionOf(o),
    artifact: ({ a, entity }: ArtifactObj) => wrap(a, entity),
    files: (o: ArtifactObj, args: Args, ctx: GqlContext) => filesOf(o, args, ctx),
  },
  Artifact: {
    ...artifactLineageResolvers,
    id: ({ a }: ArtifactObj) => artifactGid(a.id),
    artifactSequence: ({ a, entity }: ArtifactObj) => collectionOf(wrap(a, entity)),
    versionIndex: ({ a }: ArtifactObj) => a.version_index,
    artifactType: ({ a, entity }: ArtifactObj): TypeObj => ({ experimentId: a.experiment_id, project: a.project, entity, name: a.type }),
    description: ({ a }: ArtifactObj) => a.description,
    metadata: ({ a }: ArtifactObj) => a.metadata,
    ttlDurationSeconds: ({ a }: ArtifactObj) => ttlFields(a.ttl_seconds).ttlDurationSeconds,
    ttlIsInherited: ({ a }: ArtifactObj) => ttlFields(a.ttl_seconds).ttlIsInherited,
    tags: ({ a }: ArtifactObj) => (JSON.parse(a.tags) as string[]).map((name) => ({ id: b64(`Tag:${a.id}:${name}`), name })),
    historyStep: ({ a }: ArtifactObj) => a.history_step,
    state: ({ a }: ArtifactObj) => a.state,
    size: ({ a }: ArtifactObj) => a.size,
    digest: ({ a }: ArtifactObj) => a.digest,
    digestAlgorithm: () => 'MANIFEST_MD5',
    commitHash: ({ a }: ArtifactObj) => (a.state === 'COMMITTED' ? a.digest.slice(0, 12) : null),
    fileCount: ({ a }: ArtifactObj) => a.file_count,
    createdAt: ({ a }: ArtifactObj) => isoTime(a.created_at),
    updatedAt: ({ a }: ArtifactObj) => isoTime(a.updated_at),
    aliases: (o: ArtifactObj, _a: Args, ctx: GqlContext) => aliasObjs(o, ctx),
    currentManifest: (o: ArtifactObj, _a: Args, ctx: GqlContext) => manifestObj(ctx, o.a, false),
    files: (o: ArtifactObj, args: Args, ctx: GqlContext) => filesOf(o, args, ctx),
  },
  ArtifactType: {
    ...collectionResolvers.ArtifactType,
    id: (t: TypeObj) => b64(`ArtifactType:${t.experimentId}:${t.name}`),
    name: (t: TypeObj) => t.name,
    artifactCollection: async (t: TypeObj, args: Args, ctx: GqlContext) => {
      const c = await collectionInProject(ctx.deps.db, t.experimentId, t.name, String(args.name));
      const __typename = c?.portfolio ? 'ArtifactPortfolio' : 'ArtifactSequence';
      return c ? ({ __typename, id: c.id, name: c.name, experimentId: t.experimentId, project: t.project, entity: t.entity } satisfies CollectionObj) : null;
    },
  },
  Run: {
    outputArtifacts: async ({ row }: { row: { run_id: string; entity: string } }, args: Args, ctx: GqlContext) =>
      connection(await runOutputs(ctx.deps.db, row.run_id, str(args.after), numArg(args.first)), row.entity, false),
    inputArtifacts: async ({ row }: { row: { run_id: string; entity: string } }, args: Args, ctx: GqlContext) =>
      connection(await runInputs(ctx.deps.db, row.run_id, str(args.after), numArg(args.first)), row.entity, false),
  },
  ArtifactSequence: {
    ...collectionFieldResolvers,
    artifacts: async (c: CollectionObj, args: Args, ctx: GqlContext) =>
      c.__typename === 'ArtifactPortfolio'
        ? portfolioConnection(await listPortfolio(ctx.deps.db, c, str(args.after), numArg(args.first)), c.entity)
        : connection(await listVersions(ctx.deps.db, c.id, str(args.after), numArg(args.first)), c.entity, true),
    id: (c: CollectionObj) => collectionGid(c.id),
    name: (c: CollectionObj) => c.name,
    project: (c: CollectionObj) => projectObj(c),
    artifactMembership: async (c: CollectionObj, args: Args, ctx: GqlContext) =>
      memberObj(await memberByName(ctx.deps.db, c.experimentId, c.project, `${c.name}:${String(args.aliasName)}`), c.entity),
    latestArtifact: async (c: CollectionObj, _a: Args, ctx: GqlContext) => {
      const a = await latestOf(ctx.deps.db, c.id);
      return a ? wrap(a, c.entity) : null;
    },
  },
  ArtifactAlias: {
    id: (x: { alias: string; collection: CollectionObj }) => b64(`ArtifactAlias:${x.collection.id}:${x.alias}`),
    alias: (x: { alias: string }) => x.alias,
    artifactCollection: (x: { collection: CollectionObj }) => x.collection,
  },
};
