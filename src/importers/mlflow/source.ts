import type { Readable } from 'node:stream';

/** Rows, files and metric points are read this many at a time. */
export const PAGE = 1000;
/** A stored value that may be absent (null, undefined, or an empty field) as text or a number. */
export const optionalString = (v: unknown) => (v === null || v === undefined ? undefined : String(v));
export const optionalNumber = (v: unknown) => (v === null || v === undefined || v === '' ? undefined : Number(v));

/** A failure reading the source: one line naming the URL or file, shown to the user as is. */
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
  /** Set on the points a logged model's metrics link to their run (MLflow 3). */
  model_id?: string;
  dataset_name?: string;
  dataset_digest?: string;
}
export interface SrcRunInfo {
  run_id: string;
  run_name?: string;
  experiment_id: string;
  user_id?: string;
  status: string;
  start_time?: number;
  end_time?: number;
  artifact_uri: string;
  lifecycle_stage: string;
}
export interface SrcDatasetInput {
  tags?: KV[];
  dataset: { name: string; digest: string; source_type: string; source: string; schema?: string; profile?: string };
}
export interface SrcRun {
  info: SrcRunInfo;
  /** metrics: one entry per key (its value is not used: the history is read with metricHistory). */
  data: { metrics?: { key: string }[]; params?: KV[]; tags?: KV[] };
  inputs?: { dataset_inputs?: SrcDatasetInput[] };
}
export interface SrcFile {
  path: string;
  is_dir: boolean;
  file_size?: number;
}
export interface SrcLoggedModel {
  model_id: string;
  experiment_id: string;
  name: string;
  artifact_uri: string;
  creation_timestamp_ms?: number;
  last_updated_timestamp_ms?: number;
  /** PENDING | READY | FAILED | UNSPECIFIED */
  status: string;
  lifecycle_stage?: string;
  model_type?: string;
  source_run_id?: string;
  status_message?: string;
  tags?: KV[];
  params?: KV[];
  /** The points logged with this model_id; each is also a point of its run. */
  metrics?: (SrcMetric & { run_id: string })[];
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
 * Where an MLflow import reads from: a tracking server (REST), an MLflow SQL database, or a file store
 * folder. Each streams (experiments, runs, metric pages, files) rather than loading everything. A bad
 * item the source can step over (a corrupt meta.yaml, an unreadable metric line) is reported through
 * `skip` and left out; a source that cannot be read at all throws SourceError.
 */
export interface MlflowSource {
  /** The URL or path, for messages. */
  readonly label: string;
  skip: (what: string, why: string) => void;
  experiments(): AsyncIterable<SrcExperiment>;
  runs(experimentId: string): AsyncIterable<SrcRun>;
  metricHistory(run: SrcRunInfo, key: string): AsyncIterable<SrcMetric[]>;
  artifactFiles(run: SrcRunInfo): AsyncIterable<SrcFile>;
  openArtifact(run: SrcRunInfo, path: string): Promise<Readable>;
  loggedModels(experimentId: string): AsyncIterable<SrcLoggedModel>;
  loggedModelFiles(model: SrcLoggedModel): AsyncIterable<SrcFile>;
  openLoggedModelArtifact(model: SrcLoggedModel, path: string): Promise<Readable>;
  /** Registered models and prompts, each with its tags and aliases. */
  registeredModels(): AsyncIterable<SrcModel>;
  /** A model's (or prompt's) live versions, by number. */
  versions(model: SrcModel): Promise<SrcVersion[]>;
  close(): Promise<void>;
}

export const isPrompt = (m: SrcModel) => m.tags?.some((t) => t.key === 'mlflow.prompt.is_prompt' && t.value?.toLowerCase() === 'true') ?? false;

export const byVersion = (a: SrcVersion, b: SrcVersion) => Number(a.version) - Number(b.version);

/** The run statuses MLflow's file store writes as numbers (RunStatus enum). */
export const RUN_STATUS_BY_NUMBER: Readonly<Record<string, string>> = { 1: 'RUNNING', 2: 'SCHEDULED', 3: 'FINISHED', 4: 'FAILED', 5: 'KILLED' };
/** LoggedModelStatus numbers (SQL and file stores) as Cairn stores them. */
export const LOGGED_MODEL_STATUS_BY_NUMBER: Readonly<Record<string, string>> = { 0: 'UNSPECIFIED', 1: 'PENDING', 2: 'READY', 3: 'FAILED' };
