import { api, get, post } from './client';

// MLflow 3 traces as Cairn serves them (docs/tracing.md): the v3 search, and GetTrace with spans as
// OpenTelemetry Span protos in JSON, decoded here into plain values for the pages.

export interface TraceInfo {
  trace_id: string;
  trace_location: { mlflow_experiment?: { experiment_id: string } };
  request_time: string;
  execution_duration?: string;
  state: string;
  request_preview?: string;
  response_preview?: string;
  trace_metadata?: Record<string, string>;
  tags?: Record<string, string>;
  assessments?: Assessment[];
}

export interface Assessment {
  assessment_id?: string;
  assessment_name: string;
  source?: { source_type?: string; source_id?: string };
  create_time?: string;
  feedback?: { value?: unknown; error?: { error_code?: string; error_message?: string } };
  expectation?: { value?: unknown; serialized_value?: { value?: string } };
  rationale?: string;
  metadata?: Record<string, string>;
  valid?: boolean;
  overrides?: string;
}

interface AnyValue {
  string_value?: string;
  bool_value?: boolean;
  int_value?: string | number;
  double_value?: number;
  bytes_value?: string;
  array_value?: { values?: AnyValue[] };
  kvlist_value?: { values?: { key: string; value: AnyValue }[] };
}

interface ProtoSpan {
  trace_id: string;
  span_id: string;
  parent_span_id?: string;
  name: string;
  kind?: string;
  start_time_unix_nano: string;
  end_time_unix_nano?: string;
  attributes?: { key: string; value: AnyValue }[];
  events?: { name: string; time_unix_nano: string; attributes?: { key: string; value: AnyValue }[] }[];
  status?: { code?: string; message?: string };
}

export interface SpanEvent {
  name: string;
  timeNs: bigint;
  attributes: Record<string, unknown>;
}

export interface Span {
  id: string;
  parentId?: string;
  name: string;
  kind: string;
  type?: string;
  startNs: bigint;
  endNs?: bigint;
  status: string;
  statusMessage?: string;
  inputs?: unknown;
  outputs?: unknown;
  attributes: Record<string, unknown>;
  events: SpanEvent[];
}

export interface Trace {
  info: TraceInfo;
  spans: Span[];
}

export const SEARCH_PAGE = 50;

/** The experiment a trace belongs to; `fallback` when its location names none. */
export const experimentOf = (t: TraceInfo, fallback: string) => t.trace_location.mlflow_experiment?.experiment_id ?? fallback;

export const searchTraces = (experimentId: string, q: { filter?: string; orderBy?: string[]; pageToken?: string; maxResults?: number }) =>
  post<{ traces?: TraceInfo[]; next_page_token?: string }>(`3.0/mlflow/traces/search`, {
    locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } }],
    filter: q.filter || undefined,
    order_by: q.orderBy?.length ? q.orderBy : undefined,
    max_results: q.maxResults ?? SEARCH_PAGE,
    page_token: q.pageToken,
  });

export async function getTrace(traceId: string): Promise<Trace> {
  const r = await get<{ trace: { trace_info: TraceInfo; spans?: ProtoSpan[] } }>(`3.0/mlflow/traces/get`, { trace_id: traceId });
  return { info: r.trace.trace_info, spans: (r.trace.spans ?? []).map(decodeSpan) };
}

function decodeValue(v: AnyValue | undefined): unknown {
  if (!v) return null;
  if (v.string_value !== undefined) return v.string_value;
  if (v.bool_value !== undefined) return v.bool_value;
  if (v.int_value !== undefined) return Number(v.int_value);
  if (v.double_value !== undefined) return v.double_value;
  if (v.bytes_value !== undefined) return v.bytes_value;
  if (v.array_value) return (v.array_value.values ?? []).map(decodeValue);
  if (v.kvlist_value) return decodeAttributes(v.kvlist_value.values);
  return null;
}

function decodeAttributes(list: { key: string; value: AnyValue }[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of list ?? []) out[key] = decodeValue(value);
  return out;
}

/** Proto JSON bytes (base64) as the hex MLflow shows span ids in. */
export function b64ToHex(b64: string): string {
  try {
    return Array.from(atob(b64), (c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join('');
  } catch {
    return b64;
  }
}

const nanos = (v: string | undefined) => (v && /^\d+$/.test(v) ? BigInt(v) : undefined);

// MLflow's own keys, shown in their own places (type, inputs, outputs) rather than among the attributes.
const SHOWN_APART = new Set(['mlflow.spanType', 'mlflow.spanInputs', 'mlflow.spanOutputs', 'mlflow.traceRequestId']);

function decodeSpan(p: ProtoSpan): Span {
  const all = decodeAttributes(p.attributes);
  const attributes = Object.fromEntries(Object.entries(all).filter(([k]) => !SHOWN_APART.has(k)));
  return {
    id: b64ToHex(p.span_id),
    parentId: p.parent_span_id ? b64ToHex(p.parent_span_id) : undefined,
    name: p.name,
    kind: (p.kind ?? 'SPAN_KIND_INTERNAL').replace('SPAN_KIND_', ''),
    type: typeof all['mlflow.spanType'] === 'string' ? (all['mlflow.spanType'] as string) : undefined,
    startNs: nanos(p.start_time_unix_nano) ?? 0n,
    endNs: nanos(p.end_time_unix_nano),
    status: (p.status?.code ?? 'STATUS_CODE_UNSET').replace('STATUS_CODE_', ''),
    statusMessage: p.status?.message || undefined,
    inputs: all['mlflow.spanInputs'],
    outputs: all['mlflow.spanOutputs'],
    attributes,
    events: (p.events ?? []).map((e) => ({ name: e.name, timeNs: nanos(e.time_unix_nano) ?? 0n, attributes: decodeAttributes(e.attributes) })),
  };
}

/** Milliseconds of a proto Duration ("1.250s"). */
export function durationMs(d: string | undefined): number | undefined {
  if (!d || !d.endsWith('s')) return undefined;
  const n = Number(d.slice(0, -1));
  return Number.isFinite(n) ? n * 1000 : undefined;
}

export function fmtMs(ms: number | undefined): string {
  if (ms === undefined) return '—';
  if (ms === 0) return '< 1 ms';
  if (ms < 1) return `${(ms * 1000).toFixed(0)} µs`;
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** Feedback from a person, as the client's `log_feedback` with a HUMAN source logs it. */
export const logFeedback = (traceId: string, f: { name: string; value: unknown; rationale?: string; sourceId: string }) =>
  post<{ assessment: Assessment }>(`3.0/mlflow/traces/${encodeURIComponent(traceId)}/assessments`, {
    assessment: {
      assessment_name: f.name,
      trace_id: traceId,
      source: { source_type: 'HUMAN', source_id: f.sourceId },
      feedback: { value: f.value },
      rationale: f.rationale,
    },
  });

/** Deletes traces of one experiment by id (their spans go from the store too); answers how many went. */
export const deleteTraces = (experimentId: string, traceIds: string[]) =>
  post<{ traces_deleted: number }>(`3.0/mlflow/traces/delete-traces`, { experiment_id: experimentId, request_ids: traceIds });

const tagsPath = (traceId: string) => `3.0/mlflow/traces/${encodeURIComponent(traceId)}/tags`;
/** set_trace_tag / delete_trace_tag, on the v3 path. */
export const setTraceTag = (traceId: string, key: string, value: string) => api('PATCH', tagsPath(traceId), { key, value });
// The key goes in a JSON body, as the client sends it (the server reads no query on this DELETE).
export const deleteTraceTag = (traceId: string, key: string) => api('DELETE', tagsPath(traceId), { key });

/** One point of QueryTraceMetrics: its dimensions (time_bucket as an ISO time) and aggregate values. */
export interface MetricPoint {
  metric_name: string;
  dimensions?: Record<string, string>;
  values: Record<string, number>;
}

export interface MetricsRequest {
  view?: 'TRACES' | 'SPANS' | 'ASSESSMENTS';
  metric: string;
  aggregations: ('COUNT' | 'SUM' | 'AVG' | 'MIN' | 'MAX' | { percentile: number })[];
  dimensions?: string[];
  bucketSeconds?: number;
  filters?: string[];
  startMs: number;
  endMs: number;
}

/** The experiment's trace metrics (the server's QueryTraceMetrics, docs/tracing.md#trace-metrics). */
export const traceMetrics = (experimentId: string, q: MetricsRequest) =>
  post<{ data_points?: MetricPoint[] }>('3.0/mlflow/traces/metrics', {
    experiment_ids: [experimentId],
    view_type: q.view ?? 'TRACES',
    metric_name: q.metric,
    aggregations: q.aggregations.map((a) => (typeof a === 'string' ? { aggregation_type: a } : { aggregation_type: 'PERCENTILE', percentile_value: a.percentile })),
    dimensions: q.dimensions,
    time_interval_seconds: q.bucketSeconds,
    filters: q.filters?.length ? q.filters : undefined,
    start_time_ms: q.startMs,
    end_time_ms: q.endMs,
  }).then((r) => r.data_points ?? []);
