import { Readable } from 'node:stream';
import { parseJsonLenient } from '../lib/json-body.js';

/** A failure reading the source: one line naming the URL, shown to the user as is. */
export class SourceError extends Error {}

export interface KV {
  key: string;
  value?: string;
}
export interface SrcExperiment {
  experiment_id: string;
  name: string;
  artifact_location?: string;
  lifecycle_stage: string;
  creation_time?: number;
  last_update_time?: number;
  tags?: KV[];
}
export interface SrcMetric {
  key: string;
  value: number | string;
  timestamp: number;
  step: number;
}
export interface SrcRun {
  info: {
    run_id: string;
    run_name?: string;
    experiment_id: string;
    user_id?: string;
    status: string;
    start_time?: number;
    end_time?: number;
    artifact_uri: string;
    lifecycle_stage: string;
  };
  data: { metrics?: SrcMetric[]; params?: KV[]; tags?: KV[] };
  inputs?: { dataset_inputs?: { tags?: KV[]; dataset: { name: string; digest: string; source_type: string; source: string; schema?: string; profile?: string } }[] };
}
export interface SrcFile {
  path: string;
  is_dir: boolean;
  file_size?: number;
}
export interface SrcModel {
  name: string;
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  description?: string;
  tags?: KV[];
  aliases?: { alias: string; version: string }[];
}
export interface SrcVersion {
  name: string;
  version: string;
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  description?: string;
  current_stage?: string;
  source: string;
  run_id?: string;
  run_link?: string;
  tags?: KV[];
  model_id?: string;
}

/**
 * Reads an MLflow tracking server through its public REST API (any MLflow server, or Cairn),
 * page by page, so nothing is held in memory beyond one page.
 */
export class MlflowRestSource {
  private readonly base: string;
  private readonly headers: Record<string, string>;

  constructor(url: string, auth: { username?: string; password?: string; token?: string } = {}) {
    const u = new URL(url);
    // Credentials in the URL (http://user:pass@host) are the same basic auth as --username/--password.
    const username = auth.username ?? (u.username ? decodeURIComponent(u.username) : undefined);
    const password = auth.password ?? (u.password ? decodeURIComponent(u.password) : undefined);
    u.username = '';
    u.password = '';
    this.base = u.toString().replace(/\/+$/, '');
    this.headers = {};
    if (auth.token) this.headers.authorization = `Bearer ${auth.token}`;
    else if (username !== undefined) this.headers.authorization = `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}`;
  }

  get url(): string {
    return this.base;
  }

  private async call(path: string, init: { method?: string; query?: Record<string, string | number | undefined>; body?: unknown } = {}): Promise<any> {
    const u = new URL(`${this.base}${path}`);
    for (const [k, v] of Object.entries(init.query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    let res: Response;
    try {
      res = await fetch(u, {
        method: init.method ?? 'GET',
        headers: { ...this.headers, ...(init.body ? { 'content-type': 'application/json' } : {}) },
        body: init.body ? JSON.stringify(init.body) : undefined,
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new SourceError(`cannot reach ${u.origin}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
    }
    const text = await res.text();
    if (res.status === 401 || res.status === 403) throw new SourceError(`${u.origin} refused the credentials (HTTP ${res.status}); check --username/--password`);
    if (!res.ok) throw new SourceError(`${u.toString()} answered HTTP ${res.status}: ${text.slice(0, 200).replace(/\s+/g, ' ')}`);
    try {
      return text ? parseJsonLenient(text) : {};
    } catch {
      throw new SourceError(`${u.toString()} did not answer JSON`);
    }
  }

  async *experiments(): AsyncGenerator<SrcExperiment> {
    let token: string | undefined;
    do {
      const page = await this.call('/api/2.0/mlflow/experiments/search', { method: 'POST', body: { max_results: 1000, view_type: 'ALL', page_token: token } });
      for (const e of page.experiments ?? []) yield e;
      token = page.next_page_token || undefined;
    } while (token);
  }

  async *runs(experimentId: string): AsyncGenerator<SrcRun> {
    let token: string | undefined;
    do {
      const page = await this.call('/api/2.0/mlflow/runs/search', {
        method: 'POST',
        body: { experiment_ids: [experimentId], run_view_type: 'ALL', max_results: 500, order_by: ['attributes.start_time ASC'], page_token: token },
      });
      for (const r of page.runs ?? []) yield r;
      token = page.next_page_token || undefined;
    } while (token);
  }

  /** One metric's full history in pages (get-history pages at most 25,000 points at a time). */
  async *metricHistory(runId: string, key: string): AsyncGenerator<SrcMetric[]> {
    let token: string | undefined;
    do {
      const page = await this.call('/api/2.0/mlflow/metrics/get-history', { query: { run_id: runId, metric_key: key, max_results: 25000, page_token: token } });
      yield page.metrics ?? [];
      token = page.next_page_token || undefined;
    } while (token);
  }

  /** Every file below the run's artifact root, depth first. */
  async *artifactFiles(runId: string, path = ''): AsyncGenerator<SrcFile> {
    let token: string | undefined;
    do {
      const page = await this.call('/api/2.0/mlflow/artifacts/list', { query: { run_id: runId, path: path || undefined, page_token: token } });
      for (const f of (page.files ?? []) as SrcFile[]) {
        if (f.is_dir) yield* this.artifactFiles(runId, f.path);
        else yield f;
      }
      token = page.next_page_token || undefined;
    } while (token);
  }

  /** The file's body as a stream (the server's get-artifact endpoint reads whatever store it uses). */
  async openArtifact(runId: string, path: string): Promise<Readable> {
    const u = new URL(`${this.base}/get-artifact`);
    u.searchParams.set('path', path);
    u.searchParams.set('run_uuid', runId);
    let res: Response;
    try {
      res = await fetch(u, { headers: this.headers });
    } catch (err) {
      throw new SourceError(`cannot reach ${u.origin}: ${(err as Error).message}`);
    }
    if (!res.ok || !res.body) throw new SourceError(`${u.toString()} answered HTTP ${res.status}`);
    return Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
  }

  async *registeredModels(): AsyncGenerator<SrcModel> {
    let token: string | undefined;
    do {
      const page = await this.call('/api/2.0/mlflow/registered-models/search', { query: { max_results: 1000, page_token: token } });
      for (const m of page.registered_models ?? []) yield m;
      token = page.next_page_token || undefined;
    } while (token);
  }

  async registeredModel(name: string): Promise<SrcModel> {
    return (await this.call('/api/2.0/mlflow/registered-models/get', { query: { name } })).registered_model;
  }

  async versions(name: string): Promise<SrcVersion[]> {
    const out: SrcVersion[] = [];
    let token: string | undefined;
    do {
      const filter = `name='${name.replace(/'/g, "\\'")}'`;
      const page = await this.call('/api/2.0/mlflow/model-versions/search', { query: { filter, max_results: 10000, page_token: token } });
      out.push(...(page.model_versions ?? []));
      token = page.next_page_token || undefined;
    } while (token);
    return out.sort((a, b) => Number(a.version) - Number(b.version));
  }
}
