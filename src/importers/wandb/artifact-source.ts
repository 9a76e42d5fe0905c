import { SourceError } from '../mlflow/source.js';
import type { WandbServerSource } from './server-source.js';

// W&B artifacts read through the public GraphQL API, with the queries wandb 0.31's `wandb.Api()`
// sends (ProjectArtifactCollections, ProjectArtifacts, FetchArtifactManifest, the version's files):
// what W&B's own service answers, and another Cairn too.

export interface WandbSrcCollection {
  name: string;
  type: string;
  description: string | null;
  /** A portfolio holds versions linked from other collections (link_artifact); not copied. */
  portfolio: boolean;
}

export interface WandbSrcRunRef {
  name: string;
  project: { name: string; entity: { name: string } };
}

export interface WandbSrcVersion {
  id: string;
  versionIndex: number;
  type: string;
  description: string | null;
  metadata: string | null;
  ttlDurationSeconds: number | null;
  ttlIsInherited: boolean | null;
  tags: { name: string }[];
  historyStep: number | null;
  state: string;
  size: number;
  digest: string;
  fileCount: number;
  createdAt: string;
  aliases: { alias: string; artifactCollection: { name: string } | null }[];
  createdBy: ({ __typename: string } & Partial<WandbSrcRunRef>) | null;
  usedBy: { edges: { node: WandbSrcRunRef }[] } | null;
}

/** One entry of a version's manifest (`contents`), as the client wrote it. */
export interface WandbManifestEntry {
  digest: string;
  size?: number;
  ref?: string | null;
  birthArtifactID?: string | null;
  extra?: unknown;
}

export interface WandbManifest {
  contents: Record<string, WandbManifestEntry>;
  [k: string]: unknown;
}

type Page<T> = { edges: { node: T }[]; pageInfo: { endCursor: string | null; hasNextPage: boolean } };

const VERSION_FIELDS = `id versionIndex artifactType { name } description metadata ttlDurationSeconds ttlIsInherited tags { name } historyStep state size digest fileCount createdAt
  aliases { alias artifactCollection { name } }
  createdBy { __typename ... on Run { name project { name entity { name } } } }
  usedBy { edges { node { name project { name entity { name } } } } }`;

export class WandbArtifactSource {
  constructor(private readonly src: WandbServerSource) {}

  async *collections(entity: string, project: string): AsyncIterable<WandbSrcCollection> {
    let after: string | null = null;
    for (;;) {
      const d: { project: { artifactCollections: Page<{ __typename: string; name: string; description: string | null; type: { name: string } }> | null } | null } = await this.src.query(
        `query ProjectArtifactCollections($entity: String!, $project: String!, $cursor: String, $perPage: Int) { project(entityName: $entity, name: $project) {
          artifactCollections(after: $cursor, first: $perPage) { edges { node { __typename name description type: defaultArtifactType { name } } } pageInfo { endCursor hasNextPage } } } }`,
        { entity, project, cursor: after, perPage: 100 },
      );
      if (!d.project) throw new SourceError(`${this.src.label}: project ${entity}/${project} not found`);
      const page = d.project.artifactCollections;
      if (!page) return;
      for (const e of page.edges) yield { name: e.node.name, type: e.node.type.name, description: e.node.description, portfolio: e.node.__typename === 'ArtifactPortfolio' };
      if (!page.pageInfo.hasNextPage) return;
      after = page.pageInfo.endCursor;
    }
  }

  /** A collection's versions, oldest first (the order they are recreated in, so numbers match). */
  async versions(entity: string, project: string, c: WandbSrcCollection): Promise<WandbSrcVersion[]> {
    const out: WandbSrcVersion[] = [];
    let after: string | null = null;
    for (;;) {
      type Node = Omit<WandbSrcVersion, 'type'> & { artifactType: { name: string } };
      const d: { project: { artifactType: { artifactCollection: { artifacts: Page<Node> | null } | null } | null } | null } = await this.src.query(
        `query ProjectArtifacts($entity: String!, $project: String!, $type: String!, $collection: String!, $cursor: String, $perPage: Int) { project(entityName: $entity, name: $project) {
          artifactType(name: $type) { artifactCollection(name: $collection) { artifacts(after: $cursor, first: $perPage) { edges { node { ${VERSION_FIELDS} } } pageInfo { endCursor hasNextPage } } } } } }`,
        { entity, project, type: c.type, collection: c.name, cursor: after, perPage: 50 },
      );
      const page = d.project?.artifactType?.artifactCollection?.artifacts;
      if (!page) throw new SourceError(`${this.src.label}: artifact ${entity}/${project}/${c.name} not found`);
      for (const e of page.edges) out.push({ ...e.node, type: e.node.artifactType.name, size: Number(e.node.size), fileCount: Number(e.node.fileCount) });
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    return out.filter((v) => v.state === 'COMMITTED').sort((a, b) => a.versionIndex - b.versionIndex);
  }

  /** The version's manifest, read from the URL the server gives for it (FetchArtifactManifest). */
  async manifest(v: WandbSrcVersion): Promise<WandbManifest> {
    const d = await this.src.query<{ artifact: { currentManifest: { file: { directUrl: string } } | null } | null }>(
      `query FetchArtifactManifest($id: ID!) { artifact(id: $id) { currentManifest { file { directUrl } } } }`,
      { id: v.id },
    );
    const url = d.artifact?.currentManifest?.file.directUrl;
    if (!url) throw new SourceError(`${this.src.label}: artifact ${v.id} has no manifest`);
    const chunks: Buffer[] = [];
    for await (const c of await this.src.openFile({ name: 'wandb_manifest.json', sizeBytes: 0, directUrl: url })) chunks.push(c as Buffer);
    try {
      const m = JSON.parse(Buffer.concat(chunks).toString('utf8')) as WandbManifest;
      if (!m || typeof m.contents !== 'object') throw new Error('no contents');
      return m;
    } catch (err) {
      throw new SourceError(`${url}: not an artifact manifest (${(err as Error).message})`);
    }
  }

  /** Download URLs of a version's stored files, by their digest (base64 MD5). */
  async fileUrls(v: WandbSrcVersion): Promise<Map<string, string>> {
    const urls = new Map<string, string>();
    let after: string | null = null;
    for (;;) {
      const d: { artifact: { files: Page<{ digest: string | null; md5: string | null; directUrl: string }> } | null } = await this.src.query(
        `query ArtifactFiles($id: ID!, $cursor: String, $perPage: Int) { artifact(id: $id) { files(after: $cursor, first: $perPage) { edges { node { digest md5 directUrl } } pageInfo { endCursor hasNextPage } } } }`,
        { id: v.id, cursor: after, perPage: 1000 },
      );
      if (!d.artifact) throw new SourceError(`${this.src.label}: artifact ${v.id} not found`);
      for (const e of d.artifact.files.edges) urls.set(e.node.md5 ?? e.node.digest ?? '', e.node.directUrl);
      if (!d.artifact.files.pageInfo.hasNextPage) return urls;
      after = d.artifact.files.pageInfo.endCursor;
    }
  }
}
