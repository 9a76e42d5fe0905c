import { checkProject } from '../../auth/wandb.js';
import type { LinkInfo, Member } from '../../domain/wandb/artifact-links.js';
import { aliasesOf, requireArtifact, type ArtifactPage, type ArtifactRow } from '../../domain/wandb/artifacts.js';
import { artifactFileUrl, listArtifactFiles, manifestDownloadUrl, manifestUploadUrl, md5Hex } from '../../domain/wandb/artifacts-blobs.js';
import type { GqlContext } from './resolvers.js';
import type { ArtifactFileObj } from './run-file-resolvers.js';

// The objects the artifact resolvers hand to graphql-js: a version (with the portfolio it was
// reached through, if any), its collection, manifest, aliases and file pages.
export type Args = Record<string, unknown>;
export const b64 = (s: string) => Buffer.from(s).toString('base64');
export const str = (v: unknown) => (typeof v === 'string' ? v : null);

export interface ArtifactObj {
  a: ArtifactRow;
  entity: string;
  /** Set when the version was reached as a member of a portfolio (a linked version). */
  link?: LinkInfo;
}
export interface CollectionObj {
  __typename: 'ArtifactSequence' | 'ArtifactPortfolio';
  id: number;
  name: string;
  experimentId: number;
  project: string;
  entity: string;
}

export interface TypeObj {
  experimentId: number;
  project: string;
  entity: string;
  name: string;
}

export const numArg = (v: unknown) => (typeof v === 'number' ? v : null);

export function connection(page: ArtifactPage, entity: string, byVersion: boolean) {
  const edges = page.artifacts.map((a) => ({ node: wrap(a, entity), version: `v${a.version_index}`, cursor: String(byVersion ? a.version_index : a.id) }));
  return {
    totalCount: page.total,
    pageInfo: { startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null, hasNextPage: page.hasNextPage, hasPreviousPage: false },
    edges,
  };
}

/** A portfolio's members: each reached through the portfolio, numbered as it numbers them. */
export function portfolioConnection(page: { members: Member[]; total: number; hasNextPage: boolean }, entity: string) {
  const edges = page.members.map((m) => ({ node: wrap(m.a, entity, m.link), version: `v${m.link!.versionIndex}`, cursor: String(m.link!.versionIndex) }));
  return {
    totalCount: page.total,
    pageInfo: { startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null, hasNextPage: page.hasNextPage, hasPreviousPage: false },
    edges,
  };
}

export const wrap = (a: ArtifactRow, entity: string, link?: LinkInfo): ArtifactObj => ({ a, entity, link });
/** The collection a version was reached through: its portfolio when linked, else its own. */
export const collectionOf = ({ a, entity, link }: ArtifactObj): CollectionObj =>
  link
    ? { __typename: 'ArtifactPortfolio', id: link.collectionId, name: link.name, experimentId: link.experimentId, project: link.project, entity }
    : { __typename: 'ArtifactSequence', id: a.collection_id, name: a.collection_name, experimentId: a.experiment_id, project: a.project, entity };
export const memberObj = (m: Member | undefined, entity: string) => (m ? wrap(m.a, entity, m.link) : null);
export const projectObj = (c: { experimentId: number; project: string; entity: string }) => ({ experimentId: c.experimentId, name: c.project, entity: c.entity });

export async function artifactFor(ctx: GqlContext, gid: unknown, need: 'read' | 'edit'): Promise<ArtifactRow> {
  const a = await requireArtifact(ctx.deps.db, gid);
  await checkProject(ctx.deps, ctx.principal, a.project, need);
  return a;
}

export function manifestObj(ctx: GqlContext, a: ArtifactRow, includeUpload: boolean) {
  const file: ArtifactFileObj = {
    fileId: b64(`File:manifest:${a.id}`),
    name: 'wandb_manifest.json',
    size: 0,
    md5: null,
    uploadUrl: () => (includeUpload && a.state === 'PENDING' ? manifestUploadUrl(ctx.deps, a.id, ctx.baseUrl) : null),
    directUrl: () => manifestDownloadUrl(ctx.deps, a.id, ctx.baseUrl),
  };
  return { id: b64(`ArtifactManifest:${a.id}`), file };
}

export async function aliasObjs(o: ArtifactObj, ctx: GqlContext) {
  const collection = collectionOf(o);
  return (await aliasesOf(ctx.deps.db, o.a.id, collection.id)).map((alias) => ({ alias, collection }));
}

/** A version's files by path, each with a signed download URL (what `artifact.download()` pages through). */
export async function filesOf({ a }: ArtifactObj, args: Args, ctx: GqlContext) {
  const page = await listArtifactFiles(ctx.deps, a.id, {
    after: str(args.after),
    first: typeof args.first === 'number' ? args.first : null,
    names: Array.isArray(args.names) ? (args.names as (string | null)[]) : null,
  });
  const edges = page.files.map((f) => {
    const node: ArtifactFileObj = {
      fileId: b64(`File:${a.id}:${f.path}`),
      name: f.path,
      size: f.size,
      md5: f.ref ? null : f.md5,
      digest: f.md5,
      storagePath: f.ref ? null : `wandb-artifacts/md5/${md5Hex(f.md5)}`,
      uploadUrl: () => null,
      // A reference's bytes are wherever it points; the client loads it with its own handler.
      directUrl: async () => f.ref ?? artifactFileUrl(ctx.deps, a.id, f.md5, ctx.baseUrl),
    };
    return { node, cursor: f.path };
  });
  const totalCount = Array.isArray(args.names) ? page.files.length : a.file_count;
  return { edges, totalCount, pageInfo: { startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null, hasNextPage: page.hasNextPage, hasPreviousPage: false } };
}
