import { sql } from 'drizzle-orm';
import { rows } from '../db/connect.js';
import type { Deps } from '../deps.js';
import { notFound } from '../errors.js';
import { textArray } from '../lib/pg-array.js';
import { proxiedKeyOf } from '../domain/artifacts-location.js';
import { linkedExperimentsOf } from '../domain/genai/dataset-links.js';
import { findProject } from '../domain/wandb/projects.js';

// Which experiment or registered model a request is about, from the fields MLflow's API names it
// by. undefined means "no such resource": the check lets the call through and the handler answers
// its own 404 (there is nothing to protect in a resource that does not exist).

export type Input = Record<string, unknown>;

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined);
const isId = (v: string) => /^\d{1,18}$/.test(v);

async function experimentOfRun(deps: Deps, runId: string): Promise<number | undefined> {
  const found = await rows<{ experiment_id: string | number }>(deps.db, sql`select experiment_id from runs where run_id = ${runId}`);
  return found.length ? Number(found[0].experiment_id) : undefined;
}

async function experimentOfLoggedModel(deps: Deps, modelId: string): Promise<number | undefined> {
  const found = await rows<{ experiment_id: string | number }>(deps.db, sql`select experiment_id from logged_models where model_id = ${modelId}`);
  return found.length ? Number(found[0].experiment_id) : undefined;
}

async function experimentByName(deps: Deps, name: string): Promise<number | undefined> {
  const found = await rows<{ experiment_id: string | number }>(deps.db, sql`select experiment_id from experiments where name = ${name}`);
  return found.length ? Number(found[0].experiment_id) : undefined;
}

/**
 * The experiments a call touches: `experiment_id`, else `run_id`/`run_uuid`, `run_ids`, `model_id`
 * (a logged model), `dataset_id` (an evaluation dataset's linked experiments), `wandb_project` ({entity, project}) or `experiment_name`; none of them means the Default experiment "0". An id that
 * matches nothing resolves to nothing.
 */
export async function experimentsOf(deps: Deps, input: Input): Promise<number[]> {
  const traced = await traceExperiments(deps, input);
  if (traced) return traced;
  // An evaluation dataset's calls follow its linked experiments, plus any the call links it to.
  const datasetId = str(input.dataset_id);
  if (datasetId !== undefined) {
    const linked = (await linkedExperimentsOf(deps.db, [datasetId])).get(datasetId) ?? [];
    const named = Array.isArray(input.experiment_ids) ? input.experiment_ids.map(str).filter((v): v is string => v !== undefined && isId(v)).map(Number) : [];
    return [...new Set([...linked, ...named])];
  }
  const expId = str(input.experiment_id);
  if (expId !== undefined) return isId(expId) ? [Number(expId)] : [];
  // Calls over several experiments at once (the UI's runs table): every one of them is checked.
  if (Array.isArray(input.experiment_ids) && input.experiment_ids.length) {
    return input.experiment_ids.map(str).filter((v): v is string => v !== undefined && isId(v)).map(Number);
  }
  const listed = (v: unknown) => (Array.isArray(v) ? v.map(str) : []);
  const runIds = [str(input.run_id) ?? str(input.run_uuid), ...listed(input.run_id), ...listed(input.run_ids)].filter(
    (v): v is string => v !== undefined,
  );
  if (runIds.length) {
    const found = await Promise.all([...new Set(runIds)].map((r) => experimentOfRun(deps, r)));
    return found.filter((v): v is number => v !== undefined);
  }
  const modelId = str(input.model_id);
  if (modelId !== undefined) {
    const e = await experimentOfLoggedModel(deps, modelId);
    return e === undefined ? [] : [e];
  }
  // A W&B path (`/files/<entity>/<project>/…`): the entity's project (docs/teams.md#namespaces).
  const wandb = obj(input.wandb_project);
  if (wandb && str(wandb.project) !== undefined) {
    const p = await findProject(deps, str(wandb.project)!, str(wandb.entity));
    return p ? [p.experimentId] : [];
  }
  const name = str(input.experiment_name);
  if (name !== undefined) {
    const e = await experimentByName(deps, name);
    return e === undefined ? [] : [e];
  }
  // A call that names no experiment (runs/create without experiment_id) is about the Default one.
  return [0];
}

const obj = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
const locationExperiment = (loc: unknown) => str(obj(obj(loc)?.mlflow_experiment)?.experiment_id);

/**
 * Trace calls name their experiment in a trace location (StartTraceV3's `trace.trace_info`,
 * SearchTracesV3's `locations`) or by a trace id (`trace_id`, v2's `request_id`): a trace's reads and
 * writes follow its experiment's permissions. undefined when the input is not a trace call.
 */
async function traceExperiments(deps: Deps, input: Input): Promise<number[] | undefined> {
  const info = obj(obj(input.trace)?.trace_info);
  if (info) {
    const e = locationExperiment(info.trace_location);
    return e !== undefined && isId(e) ? [Number(e)] : [];
  }
  if (Array.isArray(input.locations)) {
    return input.locations.map(locationExperiment).filter((v): v is string => v !== undefined && isId(v)).map(Number);
  }
  // Batch reads and LinkTracesToRun name several traces: each one's experiment (and the run's) is checked.
  // A query string naming one id gives a string, not a list.
  const traceIds = typeof input.trace_ids === 'string' ? [input.trace_ids] : input.trace_ids;
  if (Array.isArray(traceIds)) {
    const ids = traceIds.map(str).filter((v): v is string => v !== undefined);
    const found = await rows<{ experiment_id: string | number }>(
      deps.db,
      sql`select distinct experiment_id from traces where trace_id = any(${textArray(ids)}::text[])`,
    );
    const runId = str(input.run_id);
    const runExp = runId === undefined ? undefined : await experimentOfRun(deps, runId);
    return [...found.map((f) => Number(f.experiment_id)), ...(runExp === undefined ? [] : [runExp])];
  }
  const traceId = str(input.trace_id) ?? (input.experiment_id === undefined ? str(input.request_id) : undefined);
  if (traceId === undefined) return undefined;
  const found = await rows<{ experiment_id: string | number }>(deps.db, sql`select experiment_id from traces where trace_id = ${traceId}`);
  return found.length ? [Number(found[0].experiment_id)] : [];
}

export async function registeredModelIdByName(deps: Deps, name: string): Promise<number | undefined> {
  const found = await rows<{ id: string | number }>(deps.registryDb, sql`select id from registered_models where name = ${name}`);
  return found.length ? Number(found[0].id) : undefined;
}

/** The registered model a registry call is about: its `name`. */
export async function registeredModelsOf(deps: Deps, input: Input): Promise<number[]> {
  const name = str(input.name);
  if (name === undefined) return [];
  const id = await registeredModelIdByName(deps, name);
  return id === undefined ? [] : [id];
}

/**
 * The experiment an mlflow-artifacts path belongs to: its first segment, as Cairn lays artifacts
 * out (`<experiment_id>/<run_id>/artifacts/...`, `<experiment_id>/models/<model_id>/...`).
 * undefined for anything else, which only an admin may reach.
 */
export function experimentOfArtifactKey(key: string): number | undefined {
  const first = key.split('/')[0];
  return isId(first) ? Number(first) : undefined;
}

/**
 * The experiment whose permissions guard an mlflow-artifacts path: the run's, for a path under a
 * run's artifact root (`<experiment_id>/<run_id>/…`), since a run moved to another experiment
 * keeps its files where they are (docs/teams.md#moving-runs); else the path's first segment.
 */
export async function experimentOfArtifact(deps: Deps, key: string): Promise<number | undefined> {
  const [first, runId] = key.split('/');
  const byPath = experimentOfArtifactKey(key);
  if (byPath === undefined || runId === undefined || !/^[0-9a-f]{32}$/.test(runId)) return byPath;
  const run = (await rows<{ experiment_id: string | number; artifact_uri: string }>(
    deps.db,
    sql`select experiment_id, artifact_uri from runs where run_id = ${runId}`,
  ))[0];
  // Only the run's own root: a path merely naming a run id elsewhere stays its experiment's.
  const root = run && proxiedKeyOf(run.artifact_uri);
  return root !== undefined && (root === `${first}/${runId}` || root.startsWith(`${first}/${runId}/`)) ? Number(run.experiment_id) : byPath;
}

/** The id of an existing experiment (deleted ones too), or a 404 (permission endpoints). */
export async function requireExperiment(deps: Deps, experimentId: string): Promise<number> {
  const missing = () => notFound(`No Experiment with id=${experimentId.slice(0, 40)} exists`);
  if (!isId(experimentId)) throw missing();
  const found = await rows(deps.db, sql`select 1 from experiments where experiment_id = ${Number(experimentId)}`);
  if (!found.length) throw missing();
  return Number(experimentId);
}

export async function requireModel(deps: Deps, name: string): Promise<number> {
  const id = await registeredModelIdByName(deps, name);
  if (id === undefined) throw notFound(`Registered Model with name=${name.slice(0, 250)} not found`);
  return id;
}
