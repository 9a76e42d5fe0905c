import { invalidParam } from '../../errors.js';
import { protoTimestamp } from '../../lib/proto-time.js';

// TraceInfoV3 as the client reads and writes it: proto JSON, so times are a google.protobuf
// Timestamp (RFC 3339 text) and Duration ("1.500s"), enums are names, maps are JSON objects.

export const TRACE_STATES = ['STATE_UNSPECIFIED', 'OK', 'ERROR', 'IN_PROGRESS'] as const;
export type TraceState = (typeof TRACE_STATES)[number];

/** The tag that tells the client where to upload (and later find) the trace's spans, `traces.json`. */
export const ARTIFACT_LOCATION_TAG = 'mlflow.artifactLocation';
/** Where a trace's spans are: TRACKING_STORE tells the client they were logged one by one (read.ts). */
export const SPANS_LOCATION_TAG = 'mlflow.trace.spansLocation';
export const TRACKING_STORE = 'TRACKING_STORE';
/** Set by a server that archives traces; cleared by a client to let archival retry. */
export const ARCHIVAL_FAILURE_TAG = 'mlflow.trace.archivalFailure';
/** Tags the server owns: a client's values are dropped on StartTrace/EndTrace and refused by SetTraceTag (as MLflow). */
export const SERVER_MANAGED_TAGS: ReadonlySet<string> = new Set([
  ARTIFACT_LOCATION_TAG,
  SPANS_LOCATION_TAG,
  'mlflow.trace.archiveLocation',
  ARCHIVAL_FAILURE_TAG,
]);
/** The tag holding a trace's name; its value is also the `traces.name` column, which every writer keeps in step. */
export const TRACE_NAME_TAG = 'mlflow.traceName';
/** The metadata key naming the conversation a trace belongs to (TraceMetadataKey.TRACE_SESSION). */
export const TRACE_SESSION_METADATA = 'mlflow.trace.session';
/** The metadata key the client writes when a trace is created inside an active run. */
export const SOURCE_RUN_METADATA = 'mlflow.sourceRun';

export interface TraceInfoWire {
  trace_id: string;
  client_request_id?: string;
  trace_location: { type: 'MLFLOW_EXPERIMENT'; mlflow_experiment: { experiment_id: string } };
  request_preview?: string;
  response_preview?: string;
  request_time: string;
  execution_duration?: string;
  state: string;
  trace_metadata?: Record<string, string>;
  tags: Record<string, string>;
  assessments?: Record<string, unknown>[];
}

export interface TraceRow {
  trace_id: string;
  experiment_id: string | number;
  client_request_id: string | null;
  request_time: string | number;
  execution_duration: string | number | null;
  state: string;
  request_preview: string | null;
  response_preview: string | null;
}

/**
 * A new trace's tags (without the artifact location) or metadata as the text the triggers keep in
 * traces.tags_json / metadata_json (migrations/0035): compact JSON, keys in byte order, null for
 * none. Writers of new trace rows store it with the row, so the trigger that follows finds the
 * text unchanged and writes no second version of the row; the trigger stays what makes it right.
 */
export function keyValueText(pairs: Iterable<[string, string]>, leaveOut?: string): string | null {
  const kept = [...pairs].filter(([k]) => k !== leaveOut);
  if (!kept.length) return null;
  kept.sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return `{${kept.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
}

/** The pairs of such a text (keyValueText's inverse), none for null. */
export const keyValuePairs = (text: string | null | undefined): [string, string][] =>
  (text ? Object.entries(JSON.parse(text) as Record<string, string>) : []);

export function traceInfoToWire(row: TraceRow, tags: Record<string, string>, metadata: Record<string, string>): TraceInfoWire {
  const out: TraceInfoWire = {
    trace_id: row.trace_id,
    trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: String(row.experiment_id) } },
    request_time: protoTimestamp(Number(row.request_time)),
    state: row.state,
    // No metadata is no field, as proto JSON (and so `mlflow server`) leaves an empty map out.
    ...(Object.keys(metadata).length ? { trace_metadata: metadata } : {}),
    tags,
  };
  if (row.client_request_id != null) out.client_request_id = row.client_request_id;
  if (row.request_preview != null) out.request_preview = row.request_preview;
  if (row.response_preview != null) out.response_preview = row.response_preview;
  if (row.execution_duration != null) out.execution_duration = executionDuration(row.execution_duration);
  return out;
}

/** A stored execution time (ms) as the proto Duration's JSON ("1.500s"). */
export const executionDuration = (ms: string | number): string => `${(Number(ms) / 1000).toFixed(3)}s`;

/** 9999-12-31T23:59:59.999Z, the last instant a proto Timestamp (and so the client) can hold; a later one would fail every read of the trace. */
export const MAX_TIMESTAMP_MS = 253_402_300_799_999;

/** Epoch ms of a proto Timestamp in JSON (RFC 3339), or of the epoch ms some callers send instead. */
export function timestampMs(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= MAX_TIMESTAMP_MS) return value;
  if (typeof value === 'string') {
    if (/^\d{1,15}$/.test(value) && Number(value) <= MAX_TIMESTAMP_MS) return Number(value);
    // Date.parse keeps milliseconds; finer digits (the client writes nanoseconds) are dropped first.
    const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.exec(value);
    if (m) {
      const ms = Date.parse(`${m[1]}${(m[2] ?? '').slice(0, 4)}${m[3]}`);
      if (Number.isFinite(ms) && ms >= 0) return ms;
    }
  }
  throw invalidParam(`Invalid value for '${field}': expected an RFC 3339 timestamp, got ${JSON.stringify(value)?.slice(0, 100)}`);
}

/** Milliseconds of a proto Duration in JSON ("0.120s"). */
export function durationMs(value: unknown, field: string): number {
  if (typeof value === 'string') {
    const m = /^(\d{1,12})(\.\d{1,9})?s$/.exec(value);
    if (m) return Math.round(Number(`${m[1]}${m[2] ?? ''}`) * 1000);
  }
  throw invalidParam(`Invalid value for '${field}': expected a duration such as "1.5s", got ${JSON.stringify(value)?.slice(0, 100)}`);
}

/** The state as a name, from the name or number the client sends. */
export function traceState(value: unknown): TraceState {
  if (value === undefined || value === null) return 'STATE_UNSPECIFIED';
  if (typeof value === 'number' && TRACE_STATES[value]) return TRACE_STATES[value];
  if (typeof value === 'string' && (TRACE_STATES as readonly string[]).includes(value)) return value as TraceState;
  throw invalidParam(`Invalid trace state ${JSON.stringify(value)?.slice(0, 100)}. Valid values are ${TRACE_STATES.join(', ')}`);
}

// Ids become blob paths (<experiment>/traces/<id>/artifacts): a closed alphabet keeps them one
// harmless path segment. The client's ids are "tr-" and 32 hex digits.
const TRACE_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

export function checkTraceId(id: string): string {
  if (!TRACE_ID.test(id)) throw invalidParam(`Invalid trace ID: '${id.slice(0, 100)}'`);
  return id;
}

// MLflow's TraceInfoV2.to_proto cuts metadata keys and values to 250 characters and tag values to
// 4096 in every v2 answer; a v2 reader sees the same (the v3 answers carry the whole values).
const V2_METADATA_MAX = 250;
const V2_TAG_KEY_MAX = 250;
const V2_TAG_VALUE_MAX = 4096;

/** The MLflow 2 shape of a trace's info (StartTrace, EndTrace, GetTraceInfo, SearchTraces v2). */
export function traceInfoV2(v3: TraceInfoWire) {
  const pairs = (m: Record<string, string>, keyMax: number, valueMax: number) =>
    Object.entries(m).map(([key, value]) => ({ key: key.slice(0, keyMax), value: value.slice(0, valueMax) }));
  const metadata = pairs(v3.trace_metadata ?? {}, V2_METADATA_MAX, V2_METADATA_MAX);
  const tags = pairs(v3.tags, V2_TAG_KEY_MAX, V2_TAG_VALUE_MAX);
  return {
    request_id: v3.trace_id,
    experiment_id: v3.trace_location.mlflow_experiment.experiment_id,
    timestamp_ms: Date.parse(v3.request_time),
    // The proto field cannot be unset: a trace not ended yet answers 0, as MLflow's does.
    execution_time_ms: v3.execution_duration === undefined ? 0 : Math.round(Number(v3.execution_duration.slice(0, -1)) * 1000),
    status: v3.state === 'STATE_UNSPECIFIED' ? 'TRACE_STATUS_UNSPECIFIED' : v3.state,
    // Empty repeated fields are left out of proto JSON.
    ...(metadata.length ? { request_metadata: metadata } : {}),
    ...(tags.length ? { tags } : {}),
  };
}

export type TraceInfoV2Wire = ReturnType<typeof traceInfoV2>;
