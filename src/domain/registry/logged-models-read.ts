import { sql } from 'drizzle-orm';
import { rows, type Orm } from '../../db/connect.js';
import { wireDouble } from '../../lib/json-body.js';
import { textArray } from '../../lib/pg-array.js';

type KV = { key: string; value: string };
type Num = number | string;

export interface LoggedModelMetricWire {
  key: string;
  value: number | string;
  timestamp: number;
  step: number;
  run_id: string;
  model_id: string;
  dataset_name?: string;
  dataset_digest?: string;
}

export interface LoggedModelWire {
  info: {
    model_id: string;
    experiment_id: string;
    name: string;
    creation_timestamp_ms: number;
    last_updated_timestamp_ms: number;
    artifact_uri: string;
    /** Always emitted: the proto default would read as LOGGED_MODEL_STATUS_UNSPECIFIED. */
    status: string;
    model_type?: string;
    source_run_id?: string;
    status_message?: string;
    tags?: KV[];
  };
  data: { params?: KV[]; metrics?: LoggedModelMetricWire[] };
}

const WIRE_STATUS: Readonly<Record<string, string>> = {
  UNSPECIFIED: 'LOGGED_MODEL_STATUS_UNSPECIFIED',
  PENDING: 'LOGGED_MODEL_PENDING',
  READY: 'LOGGED_MODEL_READY',
  FAILED: 'LOGGED_MODEL_UPLOAD_FAILED',
};

interface ModelRow {
  model_id: string;
  experiment_id: Num;
  name: string;
  artifact_location: string;
  creation_timestamp_ms: Num;
  last_updated_timestamp_ms: Num;
  status: string;
  model_type: string | null;
  source_run_id: string | null;
  status_message: string | null;
}

interface MetricRow {
  model_id: string;
  run_id: string;
  key: string;
  value: number;
  timestamp: Num;
  step: Num;
  dataset_name: string | null;
  dataset_digest: string | null;
}

/**
 * Logged models in the order of `ids` (missing ones left out), with tags, params and metrics: every
 * metric point logged with the model's id, as MLflow's logged_model_metrics holds them.
 */
export async function loadLoggedModels(db: Orm, ids: string[], includeDeleted = false): Promise<LoggedModelWire[]> {
  if (!ids.length) return [];
  const list = sql`any(${textArray(ids)}::text[])`;
  const stage = includeDeleted ? sql`` : sql` and lifecycle_stage <> 'deleted'`;
  const [models, tags, params, metrics] = await Promise.all([
    rows<ModelRow>(
      db,
      sql`select model_id, experiment_id, name, artifact_location, creation_timestamp_ms, last_updated_timestamp_ms, status,
                 model_type, source_run_id, status_message
          from logged_models where model_id = ${list}${stage}`,
    ),
    rows<{ model_id: string; key: string; value: string }>(db, sql`select model_id, key, value from logged_model_tags where model_id = ${list} order by key`),
    rows<{ model_id: string; key: string; value: string }>(db, sql`select model_id, key, value from logged_model_params where model_id = ${list} order by key`),
    rows<MetricRow>(
      db,
      sql`select model_id, run_id, key, value, timestamp, step, dataset_name, dataset_digest from metrics
          where model_id = ${list} order by key, step, timestamp, run_id`,
    ),
  ]);
  const byId = new Map<string, LoggedModelWire>();
  for (const m of models) byId.set(m.model_id, toWire(m));
  for (const t of tags) {
    const m = byId.get(t.model_id);
    if (m) (m.info.tags ??= []).push({ key: t.key, value: t.value });
  }
  for (const p of params) {
    const m = byId.get(p.model_id);
    if (m) (m.data.params ??= []).push({ key: p.key, value: p.value });
  }
  for (const r of metrics) {
    const m = byId.get(r.model_id);
    if (!m) continue;
    const metric: LoggedModelMetricWire = {
      key: r.key,
      value: wireDouble(Number(r.value)),
      timestamp: Number(r.timestamp),
      step: Number(r.step),
      run_id: r.run_id,
      model_id: r.model_id,
    };
    if (r.dataset_name) metric.dataset_name = r.dataset_name;
    if (r.dataset_digest) metric.dataset_digest = r.dataset_digest;
    (m.data.metrics ??= []).push(metric);
  }
  return ids.map((id) => byId.get(id)).filter((m): m is LoggedModelWire => m !== undefined);
}

function toWire(r: ModelRow): LoggedModelWire {
  const info: LoggedModelWire['info'] = {
    model_id: r.model_id,
    experiment_id: String(r.experiment_id),
    name: r.name,
    creation_timestamp_ms: Number(r.creation_timestamp_ms),
    last_updated_timestamp_ms: Number(r.last_updated_timestamp_ms),
    artifact_uri: r.artifact_location,
    status: WIRE_STATUS[r.status] ?? 'LOGGED_MODEL_STATUS_UNSPECIFIED',
  };
  if (r.model_type) info.model_type = r.model_type;
  if (r.source_run_id) info.source_run_id = r.source_run_id;
  if (r.status_message) info.status_message = r.status_message;
  return { info, data: {} };
}
