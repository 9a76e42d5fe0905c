// MLflow's JSON shapes, as Cairn returns them.

export interface KeyValue {
  key: string;
  value: string;
}

export interface Experiment {
  experiment_id: string;
  name: string;
  artifact_location?: string;
  lifecycle_stage: 'active' | 'deleted';
  last_update_time?: number | string;
  creation_time?: number | string;
  tags?: KeyValue[];
}

export interface Metric {
  key: string;
  value: number | string;
  timestamp: number | string;
  step: number | string;
}

export interface RunInfo {
  run_id: string;
  run_uuid?: string;
  run_name?: string;
  experiment_id: string;
  user_id?: string;
  status: 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';
  start_time?: number | string;
  end_time?: number | string;
  artifact_uri?: string;
  lifecycle_stage: 'active' | 'deleted';
}

export interface Run {
  info: RunInfo;
  data: { metrics?: Metric[]; params?: KeyValue[]; tags?: KeyValue[] };
  inputs?: unknown;
  /** History min/max of the metrics the runs table asked for (Cairn's UI search; not MLflow's JSON). */
  ranges?: Record<string, { min: number | string; max: number | string }>;
}

export interface ModelVersion {
  name: string;
  version: string;
  creation_timestamp?: number | string;
  last_updated_timestamp?: number | string;
  user_id?: string;
  current_stage?: string;
  description?: string;
  source?: string;
  run_id?: string;
  status?: string;
  status_message?: string;
  tags?: KeyValue[];
  run_link?: string;
  aliases?: string[];
  model_id?: string;
}

export interface RegisteredModel {
  name: string;
  creation_timestamp?: number | string;
  last_updated_timestamp?: number | string;
  user_id?: string;
  description?: string;
  latest_versions?: ModelVersion[];
  tags?: KeyValue[];
  aliases?: { alias: string; version: string }[];
}

export interface LoggedModel {
  info: {
    model_id: string;
    experiment_id: string;
    name: string;
    artifact_uri?: string;
    creation_timestamp_ms?: number | string;
    last_updated_timestamp_ms?: number | string;
    model_type?: string;
    source_run_id?: string;
    status?: string;
    tags?: KeyValue[];
  };
  data?: { params?: KeyValue[]; metrics?: (Metric & { run_id?: string })[] };
}

export const tagValue = (tags: KeyValue[] | undefined, key: string) => tags?.find((t) => t.key === key)?.value;
export const runName = (r: Run) => r.info.run_name || tagValue(r.data.tags, 'mlflow.runName') || r.info.run_id;
