import { Readable } from 'node:stream';
import { SourceError } from '../mlflow/source.js';

/** One W&B run as the public API's `Run` query reads it (JSON strings left as the server sent them). */
export interface WandbSrcRun {
  entity: string;
  project: string;
  /** The run's id (W&B calls it `name`); it stays the run's id in Cairn. */
  name: string;
  displayName?: string | null;
  state?: string | null;
  notes?: string | null;
  group?: string | null;
  jobType?: string | null;
  host?: string | null;
  commit?: string | null;
  tags: string[];
  config?: string | null;
  summaryMetrics?: string | null;
  createdAt?: string | null;
  heartbeatAt?: string | null;
  historyLineCount?: number | null;
  eventsLineCount?: number | null;
}

export interface WandbSrcFile {
  name: string;
  sizeBytes: number;
  directUrl: string;
}

const RUN_FIELDS = `name displayName state notes group jobType host commit tags config summaryMetrics createdAt heartbeatAt historyLineCount eventsLineCount`;
const PAGE = 500;

/**
 * Reads a W&B server (wandb.ai, a self-hosted W&B, or another Cairn) through the public GraphQL API the
 * `wandb` client's `wandb.Api()` uses: the same queries, the same `api:<key>` basic auth. History is read
 * as `run.scan_history` reads it, in step windows (`history(minStep, maxStep, samples)`), so every row
 * comes over, not a sample.
 */
export class WandbServerSource {
  readonly label: string;
  private readonly auth: string;

  constructor(
    private readonly baseUrl: string,
    apiKey: string,
    private readonly fetcher: typeof fetch = fetch,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.label = this.baseUrl;
    this.auth = `Basic ${Buffer.from(`api:${apiKey}`).toString('base64')}`;
  }

  async query<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const url = `${this.baseUrl}/graphql`;
    let res: Response;
    try {
      res = await this.fetcher(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: this.auth }, body: JSON.stringify({ query, variables }) });
    } catch (err) {
      throw new SourceError(`${url}: unreachable (${(err as Error).message})`);
    }
    if (res.status === 401 || res.status === 403) throw new SourceError(`${url}: the API key was refused (HTTP ${res.status})`);
    const text = await res.text();
    let body: { data?: T; errors?: { message: string }[] };
    try {
      body = JSON.parse(text);
    } catch {
      throw new SourceError(`${url}: HTTP ${res.status}, not a W&B GraphQL answer`);
    }
    if (body.errors?.length) throw new SourceError(`${url}: ${body.errors.map((e) => e.message).join('; ')}`);
    if (!res.ok || !body.data) throw new SourceError(`${url}: HTTP ${res.status}`);
    return body.data;
  }

  /** The key's own entity, when the command names none. */
  async defaultEntity(): Promise<string> {
    const d = await this.query<{ viewer: { entity?: string; username?: string } | null }>(`query { viewer { entity username } }`);
    const e = d.viewer?.entity ?? d.viewer?.username;
    if (!e) throw new SourceError(`${this.label}: the API key has no entity; pass --entity`);
    return e;
  }

  async *projects(entity: string): AsyncIterable<string> {
    let after: string | null = null;
    for (;;) {
      const d: { models: { edges: { node: { name: string } }[]; pageInfo: { endCursor: string | null; hasNextPage: boolean } } | null } = await this.query(
        `query Projects($entity: String, $cursor: String, $perPage: Int) { models(entityName: $entity, after: $cursor, first: $perPage) { edges { node { name } } pageInfo { endCursor hasNextPage } } }`,
        { entity, cursor: after, perPage: 100 },
      );
      if (!d.models) throw new SourceError(`${this.label}: entity '${entity}' not found`);
      for (const e of d.models.edges) yield e.node.name;
      if (!d.models.pageInfo.hasNextPage) return;
      after = d.models.pageInfo.endCursor;
    }
  }

  async *runs(entity: string, project: string): AsyncIterable<WandbSrcRun> {
    let after: string | null = null;
    for (;;) {
      const d: { project: { runs: { edges: { node: WandbSrcRun }[]; pageInfo: { endCursor: string | null; hasNextPage: boolean } } } | null } = await this.query(
        `query Runs($project: String!, $entity: String!, $cursor: String, $perPage: Int) { project(name: $project, entityName: $entity) { runs(after: $cursor, first: $perPage, order: "+created_at") { edges { node { ${RUN_FIELDS} } } pageInfo { endCursor hasNextPage } } } }`,
        { entity, project, cursor: after, perPage: 50 },
      );
      if (!d.project) throw new SourceError(`${this.label}: project ${entity}/${project} not found`);
      for (const e of d.project.runs.edges) yield { ...e.node, tags: e.node.tags ?? [], entity, project };
      if (!d.project.runs.pageInfo.hasNextPage) return;
      after = d.project.runs.pageInfo.endCursor;
    }
  }

  /** Every history row, in pages of step windows as `scan_history` reads them; rows are the server's JSON lines. */
  async *history(run: WandbSrcRun): AsyncIterable<string[]> {
    let minStep = 0;
    const maxStep = await this.lastStep(run);
    while (minStep <= maxStep) {
      const d = await this.runQuery<{ history: string[] }>(run, `history(minStep: $min, maxStep: $max, samples: $samples)`, { min: minStep, max: minStep + PAGE, samples: PAGE }, `$min: Int64, $max: Int64, $samples: Int`);
      if (d.history.length) yield d.history;
      minStep += PAGE;
    }
  }

  /** System metrics: the events stream, every line. */
  async events(run: WandbSrcRun): Promise<string[]> {
    const d = await this.runQuery<{ events: string[] }>(run, `events(samples: $samples)`, { samples: Math.max(run.eventsLineCount ?? 0, 1) }, `$samples: Int`);
    return d.events;
  }

  async *files(run: WandbSrcRun): AsyncIterable<WandbSrcFile> {
    let after: string | null = null;
    for (;;) {
      const d: { files: { edges: { node: WandbSrcFile }[]; pageInfo: { endCursor: string | null; hasNextPage: boolean } } } = await this.runQuery(
        run,
        `files(after: $cursor, first: $perPage) { edges { node { name sizeBytes directUrl } } pageInfo { endCursor hasNextPage } }`,
        { cursor: after, perPage: 100 },
        `$cursor: String, $perPage: Int`,
      );
      for (const e of d.files.edges) yield { ...e.node, sizeBytes: Number(e.node.sizeBytes) };
      if (!d.files.pageInfo.hasNextPage) return;
      after = d.files.pageInfo.endCursor;
    }
  }

  async openFile(f: WandbSrcFile): Promise<Readable> {
    let res: Response;
    try {
      // A signed URL on the same server needs no key; wandb.ai's storage refuses one it did not sign.
      const sameHost = new URL(f.directUrl, this.baseUrl).origin === new URL(this.baseUrl).origin;
      res = await this.fetcher(new URL(f.directUrl, this.baseUrl), sameHost ? { headers: { authorization: this.auth } } : {});
    } catch (err) {
      throw new SourceError(`${f.directUrl}: unreachable (${(err as Error).message})`);
    }
    if (!res.ok || !res.body) throw new SourceError(`${f.directUrl}: HTTP ${res.status}`);
    return Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
  }

  private async lastStep(run: WandbSrcRun): Promise<number> {
    const d = await this.runQuery<{ historyKeys: { lastStep?: number } | null }>(run, `historyKeys`, {}, '');
    return Number(d.historyKeys?.lastStep ?? -1);
  }

  private async runQuery<T>(run: WandbSrcRun, field: string, vars: Record<string, unknown>, decl: string): Promise<T> {
    const d = await this.query<{ project: { run: T | null } | null }>(
      `query RunPart($project: String!, $entity: String!, $name: String!${decl ? `, ${decl}` : ''}) { project(name: $project, entityName: $entity) { run(name: $name) { ${field} } } }`,
      { project: run.project, entity: run.entity, name: run.name, ...vars },
    );
    if (!d.project?.run) throw new SourceError(`${this.label}: run ${run.entity}/${run.project}/${run.name} not found`);
    return d.project.run;
  }
}
