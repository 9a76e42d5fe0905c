import { checkProject } from '../../auth/wandb.js';
import { invalidParam, notFound } from '../../errors.js';
import { findProject } from '../../domain/wandb/projects.js';
import {
  collectionById,
  collectionRowByName,
  deleteCollection,
  editCollectionTags,
  listCollections,
  requireCollection,
  updateCollection,
  type CollectionRow,
} from '../../domain/wandb/artifact-collections.js';
import { isoTime } from '../../domain/wandb/run-filters.js';
import type { GqlContext } from './resolvers.js';
import { b64, numArg, str, type Args, type CollectionObj, type TypeObj } from './artifact-objects.js';

// api.artifact_collections / api.artifact_collection and collection.save() / .delete(). Reads
// come through a project already checked for read; edits check edit on the collection's project.

type WithRow = CollectionObj & { row?: CollectionRow };

const collectionObj = (row: CollectionRow, entity: string): WithRow => ({
  __typename: row.portfolio ? 'ArtifactPortfolio' : 'ArtifactSequence',
  id: row.id,
  name: row.name,
  experimentId: row.experiment_id,
  project: row.project,
  entity,
  row,
});

async function rowOf(c: WithRow, ctx: GqlContext): Promise<CollectionRow> {
  if (!c.row) {
    c.row = await collectionById(ctx.deps.db, c.id);
    if (!c.row) throw notFound(`Artifact collection '${c.name}' not found`);
  }
  return c.row;
}

async function page(ctx: GqlContext, p: { experimentId: number; entity: string }, type: string | null, args: Args) {
  const found = await listCollections(ctx.deps.db, p.experimentId, { type, after: str(args.after), first: numArg(args.first) });
  const edges = found.collections.map((row) => ({ node: collectionObj(row, p.entity), cursor: String(row.id) }));
  return {
    totalCount: found.total,
    pageInfo: { startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null, hasNextPage: found.hasNextPage, hasPreviousPage: false },
    edges,
  };
}

async function editable(ctx: GqlContext, gid: unknown): Promise<CollectionRow> {
  const c = await requireCollection(ctx.deps.db, gid);
  await checkProject(ctx.deps, ctx.principal, c.project, 'edit');
  return c;
}

async function byName(ctx: GqlContext, i: Args): Promise<CollectionRow> {
  const project = String(i.projectName);
  await checkProject(ctx.deps, ctx.principal, project, 'edit');
  const found = await findProject(ctx.deps, project);
  const c = found ? await collectionRowByName(ctx.deps.db, found.experimentId, String(i.artifactCollectionName)) : undefined;
  if (!c) throw notFound(`Artifact collection '${String(i.artifactCollectionName).slice(0, 130)}' not found in project '${project.slice(0, 130)}'`);
  return c;
}

const tagObjs = (c: CollectionRow) => (JSON.parse(c.tags) as string[]).map((name) => ({ id: b64(`Tag:collection:${c.id}:${name}`), name }));

async function update(ctx: GqlContext, i: Args, idField: string) {
  const c = await editable(ctx, i[idField]);
  return { artifactCollection: collectionObj(await updateCollection(ctx.deps, c, { name: str(i.name), description: str(i.description) }), ctx.user.name) };
}

async function remove(ctx: GqlContext, i: Args, idField: string) {
  const c = await editable(ctx, i[idField]);
  await deleteCollection(ctx.deps, c);
  return { artifactCollection: { ...collectionObj(c, ctx.user.name), deleted: true } };
}

export const collectionFieldResolvers = {
  description: async (c: WithRow, _a: Args, ctx: GqlContext) => (await rowOf(c, ctx)).description,
  createdAt: async (c: WithRow, _a: Args, ctx: GqlContext) => isoTime((await rowOf(c, ctx)).created_at),
  updatedAt: async (c: WithRow, _a: Args, ctx: GqlContext) => {
    const r = await rowOf(c, ctx);
    return r.updated_at === null ? null : isoTime(r.updated_at);
  },
  defaultArtifactType: async (c: WithRow, _a: Args, ctx: GqlContext): Promise<TypeObj> => ({ experimentId: c.experimentId, project: c.project, entity: c.entity, name: (await rowOf(c, ctx)).type }),
  tags: async (c: WithRow, _a: Args, ctx: GqlContext) => ({ edges: tagObjs(await rowOf(c, ctx)).map((node) => ({ node })) }),
  state: (c: WithRow & { deleted?: boolean }) => (c.deleted ? 'DELETED' : 'READY'),
};

export const REGISTRY_NOT_IMPLEMENTED =
  "The W&B Registry (organizations and 'wandb-registry-*' projects) is not implemented by Cairn: link artifacts into a project of your own entity instead, such as 'model-registry' (run.link_model / artifact.link('<entity>/model-registry/<name>'))";

export const collectionResolvers = {
  // Asked only by the client's organization lookup, which runs for Registry paths alone.
  Entity: {
    user: () => {
      throw invalidParam(REGISTRY_NOT_IMPLEMENTED);
    },
  },
  Project: {
    artifactCollections: (p: { experimentId: number; entity: string }, args: Args, ctx: GqlContext) => page(ctx, p, null, args),
  },
  ArtifactType: {
    artifactCollections: (t: TypeObj, args: Args, ctx: GqlContext) => page(ctx, t, t.name, args),
  },
  Mutation: {
    updateArtifactSequence: (_s: unknown, args: Args, ctx: GqlContext) => update(ctx, args.input as Args, 'artifactSequenceID'),
    updateArtifactPortfolio: (_s: unknown, args: Args, ctx: GqlContext) => update(ctx, args.input as Args, 'artifactPortfolioID'),
    deleteArtifactSequence: (_s: unknown, args: Args, ctx: GqlContext) => remove(ctx, args.input as Args, 'artifactSequenceID'),
    deleteArtifactPortfolio: (_s: unknown, args: Args, ctx: GqlContext) => remove(ctx, args.input as Args, 'artifactPortfolioID'),
    createArtifactCollectionTagAssignments: async (_s: unknown, args: Args, ctx: GqlContext) => {
      const i = args.input as Args;
      const c = await byName(ctx, i);
      await editCollectionTags(ctx.deps, c, { add: i.tags });
      return { tags: tagObjs((await collectionById(ctx.deps.db, c.id))!).filter((t) => (i.tags as { tagName: string }[]).some((x) => x.tagName === t.name)) };
    },
    deleteArtifactCollectionTagAssignments: async (_s: unknown, args: Args, ctx: GqlContext) => {
      const i = args.input as Args;
      await editCollectionTags(ctx.deps, await byName(ctx, i), { remove: i.tags });
      return { success: true };
    },
  },
};
