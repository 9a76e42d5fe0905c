import { api, ApiError, get, isMissingEndpoint, post } from './client';
import { takePrefetchedRun } from './prefetch';
import type { Experiment, LoggedModel, ModelVersion, RegisteredModel, Run } from './types';

// Typed calls to MLflow's REST API as Cairn serves it (docs/ and openapi/ describe each).

const M = '2.0/mlflow';

export async function searchExperiments(viewType: 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL', filter?: string): Promise<Experiment[]> {
  const out: Experiment[] = [];
  let page_token: string | undefined;
  do {
    const r = await post<{ experiments?: Experiment[]; next_page_token?: string }>(`${M}/experiments/search`, {
      max_results: 1000,
      view_type: viewType,
      filter: filter || undefined,
      order_by: ['last_update_time DESC'],
      page_token,
    });
    out.push(...(r.experiments ?? []));
    page_token = r.next_page_token || undefined;
  } while (page_token && out.length < 50_000);
  return out;
}

export const getExperiment = (id: string) => get<{ experiment: Experiment }>(`${M}/experiments/get`, { experiment_id: id }).then((r) => r.experiment);
export const getExperimentByName = (name: string) =>
  get<{ experiment: Experiment }>(`${M}/experiments/get-by-name`, { experiment_name: name }).then((r) => r.experiment);
export const createExperiment = (name: string) => post<{ experiment_id: string }>(`${M}/experiments/create`, { name });
export const renameExperiment = (id: string, name: string) => post(`${M}/experiments/update`, { experiment_id: id, new_name: name });
export const deleteExperiment = (id: string) => post(`${M}/experiments/delete`, { experiment_id: id });
export const restoreExperiment = (id: string) => post(`${M}/experiments/restore`, { experiment_id: id });

export const getRun = (id: string) => (takePrefetchedRun<{ run: Run }>(id) ?? get<{ run: Run }>(`${M}/runs/get`, { run_id: id })).then((r) => r.run);
export const deleteRun = (id: string) => post(`${M}/runs/delete`, { run_id: id });
export const restoreRun = (id: string) => post(`${M}/runs/restore`, { run_id: id });
export const setRunTag = (id: string, key: string, value: string) => post(`${M}/runs/set-tag`, { run_id: id, key, value });
export const deleteRunTag = (id: string, key: string) => post(`${M}/runs/delete-tag`, { run_id: id, key });

export type ViewType = 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';

export interface RunsQuery {
  experimentIds: string[];
  filter: string;
  viewType: ViewType;
  orderBy: string[];
  /** Metric keys whose history min/max the table shows (Cairn's UI search only). */
  metricRanges?: string[];
}

export type MetricRanges = Record<string, { min: number | string; max: number | string }>;

/** MLflow's paged search (page tokens: sequential access only). */
export const searchRunsPage = (q: RunsQuery, maxResults: number, pageToken?: string) =>
  post<{ runs?: Run[]; next_page_token?: string }>(`${M}/runs/search`, {
    experiment_ids: q.experimentIds,
    filter: q.filter || undefined,
    run_view_type: q.viewType,
    order_by: q.orderBy,
    max_results: maxResults,
    page_token: pageToken,
  });

/** Cairn's UI search: random access by offset plus the total, for the virtualized table. */
export const searchRunsOffset = (q: RunsQuery, offset: number, limit: number) =>
  post<{ runs?: Run[]; total_count: number; metric_ranges?: Record<string, MetricRanges> }>(`2.0/cairn/ui/runs/search`, {
    experiment_ids: q.experimentIds,
    filter: q.filter || undefined,
    run_view_type: q.viewType,
    order_by: q.orderBy,
    offset,
    limit,
    metric_ranges: q.metricRanges?.length ? q.metricRanges : undefined,
  });

export interface ColumnKeys {
  params: string[];
  metrics: string[];
  tags: string[];
  truncated: boolean;
}

export const experimentColumns = (ids: string[], viewType: ViewType) =>
  get<ColumnKeys>(`2.0/cairn/ui/experiments/columns`, { experiment_ids: ids, run_view_type: viewType });

/** A W&B `entity/project[/runs/id]` URL as the MLflow experiment (and run) behind it. */
export async function resolveWandb(entity: string, project: string, run?: string): Promise<{ experiment_id: string; run_id?: string }> {
  try {
    const r = await get<{ experiment_id: string | number; run_id?: string }>(`2.0/cairn/ui/wandb/resolve`, { entity, project, run });
    return { experiment_id: String(r.experiment_id), run_id: r.run_id };
  } catch (err) {
    if (!isMissingEndpoint(err)) throw err;
  }
  // Older servers: a W&B project is the experiment of the same name, and a W&B run id is kept in
  // the run's `wandb.run_id` tag (see src/domain/wandb/projects.ts and upsert.ts).
  const exp = await getExperimentByName(project);
  if (!run) return { experiment_id: exp.experiment_id };
  const found = await searchRunsPage(
    { experimentIds: [exp.experiment_id], filter: `tags.\`wandb.run_id\` = '${run.replace(/'/g, "\\'")}'`, viewType: 'ALL', orderBy: [] },
    1,
  );
  const hit = found.runs?.[0];
  if (!hit) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `No run '${run}' in W&B project '${entity}/${project}'`);
  return { experiment_id: exp.experiment_id, run_id: hit.info.run_id };
}

// ---- model registry ----
const R = `${M}/registered-models`;
const V = `${M}/model-versions`;

export async function searchRegisteredModels(filter?: string): Promise<RegisteredModel[]> {
  const out: RegisteredModel[] = [];
  let page_token: string | undefined;
  do {
    const r = await get<{ registered_models?: RegisteredModel[]; next_page_token?: string }>(`${R}/search`, {
      filter: filter || undefined,
      max_results: 1000,
      page_token,
    });
    out.push(...(r.registered_models ?? []));
    page_token = r.next_page_token || undefined;
  } while (page_token && out.length < 20_000);
  return out;
}

export const getRegisteredModel = (name: string) => get<{ registered_model: RegisteredModel }>(`${R}/get`, { name }).then((r) => r.registered_model);
export const updateRegisteredModel = (name: string, description: string) => api('PATCH', `${R}/update`, { name, description });
export const setModelAlias = (name: string, alias: string, version: string) => post(`${R}/alias`, { name, alias, version });
export const deleteModelAlias = (name: string, alias: string) => api('DELETE', `${R}/alias`, { name, alias });
export const setRegisteredModelTag = (name: string, key: string, value: string) => post(`${R}/set-tag`, { name, key, value });

export async function searchModelVersions(name: string, prompt = false): Promise<ModelVersion[]> {
  const out: ModelVersion[] = [];
  let page_token: string | undefined;
  do {
    const r = await get<{ model_versions?: ModelVersion[]; next_page_token?: string }>(`${V}/search`, {
      filter: `name = '${name.replace(/'/g, "\\'")}'${prompt ? " and tags.`mlflow.prompt.is_prompt` = 'true'" : ''}`,
      max_results: 1000,
      page_token,
    });
    out.push(...(r.model_versions ?? []));
    page_token = r.next_page_token || undefined;
  } while (page_token && out.length < 20_000);
  return out.sort((a, b) => Number(b.version) - Number(a.version));
}

export const getModelVersion = (name: string, version: string) =>
  get<{ model_version: ModelVersion }>(`${V}/get`, { name, version }).then((r) => r.model_version);
export const updateModelVersion = (name: string, version: string, description: string) => api('PATCH', `${V}/update`, { name, version, description });
export const transitionStage = (name: string, version: string, stage: string) =>
  post(`${V}/transition-stage`, { name, version, stage, archive_existing_versions: false });
export const setModelVersionTag = (name: string, version: string, key: string, value: string) => post(`${V}/set-tag`, { name, version, key, value });
export const deleteModelVersionTag = (name: string, version: string, key: string) => api('DELETE', `${V}/delete-tag`, { name, version, key });

export async function searchLoggedModels(experimentIds: string[]): Promise<LoggedModel[]> {
  const out: LoggedModel[] = [];
  let page_token: string | undefined;
  do {
    const r = await post<{ models?: LoggedModel[]; next_page_token?: string }>(`${M}/logged-models/search`, {
      experiment_ids: experimentIds,
      max_results: 100,
      page_token,
    });
    out.push(...(r.models ?? []));
    page_token = r.next_page_token || undefined;
  } while (page_token && out.length < 5_000);
  return out;
}

export const getLoggedModel = (id: string) => get<{ model: LoggedModel }>(`${M}/logged-models/${encodeURIComponent(id)}`).then((r) => r.model);

export interface RunGroup {
  value: string | null;
  run_count: number;
  metrics: Record<string, { min: number | string; max: number | string; mean: number | string }>;
}

export const runGroups = (q: RunsQuery, groupBy: { kind: 'param' | 'tag' | 'attribute'; key: string }, metrics: string[]) =>
  post<{ groups: RunGroup[]; truncated: boolean }>(`2.0/cairn/ui/runs/groups`, {
    experiment_ids: q.experimentIds,
    filter: q.filter || undefined,
    run_view_type: q.viewType,
    group_by: groupBy,
    metrics,
  });
