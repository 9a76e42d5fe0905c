import type { Readable } from 'node:stream';
import { MlflowRestClient, type Fetch, type RestAuth } from './rest-client.js';
import type * as S from './source.js';
import { byVersion, isPrompt } from './source.js';

const WIRE_STATUS: Readonly<Record<string, string>> = {
  LOGGED_MODEL_PENDING: 'PENDING',
  LOGGED_MODEL_READY: 'READY',
  LOGGED_MODEL_UPLOAD_FAILED: 'FAILED',
  LOGGED_MODEL_STATUS_UNSPECIFIED: 'UNSPECIFIED',
};
const PROMPT_FILTER = "tags.`mlflow.prompt.is_prompt` = 'true'";

/**
 * Reads an MLflow tracking server through its public REST API (any MLflow server, or Cairn),
 * page by page, so nothing is held in memory beyond one page.
 */
export class MlflowRestSource implements S.MlflowSource {
  skip: (what: string, why: string) => void = () => {};
  private readonly http: MlflowRestClient;

  /** `target`: a URL, or a client already made (an export reads its destination with the same calls). */
  constructor(target: string | MlflowRestClient, auth: RestAuth = {}, fetchImpl?: Fetch) {
    this.http = typeof target === 'string' ? new MlflowRestClient(target, auth, fetchImpl) : target;
  }

  get label(): string {
    return this.http.base;
  }

  async close(): Promise<void> {}

  private call(path: string, init?: Parameters<MlflowRestClient['call']>[1]): Promise<any> {
    return this.http.call(path, init);
  }

  async *experiments(): AsyncGenerator<S.SrcExperiment> {
    let token: string | undefined;
    do {
      const page = await this.call('/api/2.0/mlflow/experiments/search', { method: 'POST', body: { max_results: 1000, view_type: 'ALL', page_token: token } });
      for (const e of page.experiments ?? []) yield e;
      token = page.next_page_token || undefined;
    } while (token);
  }

  async *runs(experimentId: string): AsyncGenerator<S.SrcRun> {
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
  async *metricHistory(run: S.SrcRunInfo, key: string): AsyncGenerator<S.SrcMetric[]> {
    const runId = run.run_id;
    let token: string | undefined;
    do {
      const page = await this.call('/api/2.0/mlflow/metrics/get-history', { query: { run_id: runId, metric_key: key, max_results: 25000, page_token: token } });
      yield page.metrics ?? [];
      token = page.next_page_token || undefined;
    } while (token);
  }

  /** Every file below the run's artifact root, depth first. */
  artifactFiles(run: S.SrcRunInfo): AsyncIterable<S.SrcFile> {
    return this.listFiles('/api/2.0/mlflow/artifacts/list', (path) => ({ run_id: run.run_id, path }));
  }

  private async *listFiles(endpoint: string, query: (path: string | undefined) => Record<string, string | undefined>, path = ''): AsyncGenerator<S.SrcFile> {
    let token: string | undefined;
    do {
      const page = await this.call(endpoint, { query: { ...query(path || undefined), page_token: token } });
      for (const f of (page.files ?? []) as S.SrcFile[]) {
        if (f.is_dir) yield* this.listFiles(endpoint, query, f.path);
        else yield f;
      }
      token = page.next_page_token || undefined;
    } while (token);
  }

  /** The file's body as a stream (the server's get-artifact endpoint reads whatever store it uses). */
  openArtifact(run: S.SrcRunInfo, path: string): Promise<Readable> {
    return this.download('/get-artifact', { path, run_uuid: run.run_id });
  }

  async *loggedModels(experimentId: string): AsyncGenerator<S.SrcLoggedModel> {
    let token: string | undefined;
    do {
      const page = await this.call('/api/2.0/mlflow/logged-models/search', { method: 'POST', body: { experiment_ids: [experimentId], max_results: 100, page_token: token } });
      for (const m of page.models ?? []) {
        const i = m.info;
        yield {
          ...i,
          artifact_uri: i.artifact_uri,
          status: WIRE_STATUS[i.status] ?? 'READY',
          lifecycle_stage: 'active',
          params: m.data?.params ?? [],
          metrics: (m.data?.metrics ?? []).map((p: S.SrcMetric & { run_id: string }) => ({ ...p, model_id: i.model_id })),
        };
      }
      token = page.next_page_token || undefined;
    } while (token);
  }

  loggedModelFiles(model: S.SrcLoggedModel): AsyncIterable<S.SrcFile> {
    return this.listFiles(`/api/2.0/mlflow/logged-models/${encodeURIComponent(model.model_id)}/artifacts/directories`, (path) => ({ artifact_directory_path: path }));
  }

  openLoggedModelArtifact(model: S.SrcLoggedModel, path: string): Promise<Readable> {
    return this.download(`/ajax-api/2.0/mlflow/logged-models/${encodeURIComponent(model.model_id)}/artifacts/files`, { artifact_file_path: path });
  }

  private download(path: string, query: Record<string, string>): Promise<Readable> {
    return this.http.download(path, query);
  }

  /** Models, then prompts (which a plain search leaves out); each read again with get for its aliases. */
  async *registeredModels(): AsyncGenerator<S.SrcModel> {
    for (const filter of [undefined, PROMPT_FILTER]) {
      let token: string | undefined;
      do {
        const page = await this.call('/api/2.0/mlflow/registered-models/search', { query: { filter, max_results: 1000, page_token: token } });
        for (const m of page.registered_models ?? []) {
          yield (await this.call('/api/2.0/mlflow/registered-models/get', { query: { name: m.name } })).registered_model;
        }
        token = page.next_page_token || undefined;
      } while (token);
    }
  }

  async versions(model: S.SrcModel): Promise<S.SrcVersion[]> {
    const out: S.SrcVersion[] = [];
    let token: string | undefined;
    // A prompt's versions, like the prompt itself, are found only by a filter that asks for prompts.
    const prompt = isPrompt(model) ? ` AND ${PROMPT_FILTER}` : '';
    do {
      const filter = `name='${model.name.replace(/'/g, "\\'")}'${prompt}`;
      const page = await this.call('/api/2.0/mlflow/model-versions/search', { query: { filter, max_results: 10000, page_token: token } });
      out.push(...(page.model_versions ?? []));
      token = page.next_page_token || undefined;
    } while (token);
    return out.sort(byVersion);
  }
}
