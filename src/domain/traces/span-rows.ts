import { sql, type SQL } from 'drizzle-orm';
import { nullableTextArray, textArray } from '../../lib/pg-array.js';
import type { SpanRecord } from './spans.js';

// The span rows (trace_spans) that span filters and the spans view of trace metrics read, made
// from the span records Cairn keeps in traces.json, as MLflow's server makes its `spans` rows in
// log_spans: the span type, model and provider decoded from their JSON attribute values, the cost
// from `mlflow.llm.cost`, and `content` the span's JSON as Python's json.dumps writes it (", " and
// ": " between items, non-ASCII as it is), so a LIKE pattern written against MLflow matches here too.

/** MLflow's MODEL_DIMENSION_MAX_LENGTH. */
const MAX_MODEL_DIMENSION = 500;
const NANO_KEYS = new Set(['start_time_unix_nano', 'end_time_unix_nano', 'time_unix_nano']);

/** JSON text as Python's `json.dumps(value, ensure_ascii=False)` writes it (nanosecond times as numbers). */
export function pythonJson(value: unknown, key?: string): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return key !== undefined && NANO_KEYS.has(key) && /^\d+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : value > 0 ? 'Infinity' : value < 0 ? '-Infinity' : 'NaN';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) return `[${value.map((v) => pythonJson(v)).join(', ')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>).map(([k, v]) => `${JSON.stringify(k)}: ${pythonJson(v, k)}`).join(', ')}}`;
  }
  return 'null';
}

/** An attribute's value decoded from its JSON text (the client JSON-encodes every one), if a string. */
export function decodedString(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  try {
    const v: unknown = JSON.parse(raw);
    return typeof v === 'string' ? v : null;
  } catch {
    return null;
  }
}

function costs(raw: string | undefined): [string | null, string | null, string | null] {
  let parsed: unknown;
  try {
    parsed = raw === undefined ? undefined : JSON.parse(raw);
    // An attribute encoded twice (a JSON string holding the object) is read through.
    if (typeof parsed === 'string') parsed = JSON.parse(parsed);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return [null, null, null];
  const o = parsed as Record<string, unknown>;
  const finite = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? String(v) : null);
  return [finite(o.input_cost), finite(o.output_cost), finite(o.total_cost)];
}

// Postgres text holds no NUL: an id, name or model carrying one (an uploaded file's) is stored without it (content escapes it).
const clean = (v: string | null) => (v === null ? null : v.replace(/\0/g, ''));
const bounded = (v: string | null) => (v === null ? null : clean(v)!.slice(0, MAX_MODEL_DIMENSION));
const nanos = (v: unknown) => (v === null || v === undefined || !/^\d+$/.test(String(v)) ? null : String(v));

interface SpanRow {
  traceId: string;
  spanId: string;
  name: string | null;
  type: string | null;
  status: string;
  startNs: string;
  endNs: string | null;
  model: string | null;
  provider: string | null;
  cost: [string | null, string | null, string | null];
  content: string;
}

function spanRow(traceId: string, s: SpanRecord): SpanRow {
  const attributes = s.attributes ?? {};
  const code = clean(String(s.status?.code ?? 'STATUS_CODE_UNSET'))!;
  return {
    traceId,
    spanId: clean(s.span_id)!,
    name: typeof s.name === 'string' ? clean(s.name) : null,
    type: clean(decodedString(attributes['mlflow.spanType'])),
    status: code.startsWith('STATUS_CODE_') ? code.slice('STATUS_CODE_'.length) : code,
    startNs: nanos(s.start_time_unix_nano) ?? '0',
    endNs: nanos(s.end_time_unix_nano),
    model: bounded(decodedString(attributes['mlflow.llm.model'])),
    provider: bounded(decodedString(attributes['mlflow.llm.provider'])),
    cost: costs(attributes['mlflow.llm.cost']),
    content: pythonJson({ ...s, attributes: Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, pythonAttribute(v)])) }),
  };
}

/**
 * An attribute's JSON text as MLflow's server keeps it (json.dumps of the decoded value): Cairn
 * writes attributes compactly (JSON.stringify), so an object or a list is written again with
 * Python's separators, and `span.content LIKE '%\"query\": 1%'` matches as it does in MLflow.
 */
function pythonAttribute(v: unknown): unknown {
  if (typeof v !== 'string' || (v[0] !== '{' && v[0] !== '[')) return v;
  try {
    return pythonJson(JSON.parse(v));
  } catch {
    return v;
  }
}

/**
 * One statement (a multi-row upsert, usable as a CTE) writing these spans' rows; undefined for none.
 * A span sent again replaces its row, as it replaces the span in traces.json.
 */
export function spanRowsUpsert(spans: [traceId: string, span: SpanRecord][]): SQL | undefined {
  if (!spans.length) return undefined;
  // A row appears once in one upsert (Postgres refuses to update a row twice): the last copy wins.
  const unique = new Map(spans.map(([traceId, s]) => spanRow(traceId, s)).map((row) => [`${row.traceId}/${row.spanId}`, row]));
  const r = [...unique.values()];
  const col = (f: (x: SpanRow) => string | null) => nullableTextArray(r.map(f));
  return sql`insert into trace_spans (trace_id, span_id, name, type, status, start_ns, end_ns, model_name, model_provider,
                             input_cost, output_cost, total_cost, content)
    select * from unnest(${textArray(r.map((x) => x.traceId))}::text[], ${textArray(r.map((x) => x.spanId))}::text[],
      ${col((x) => x.name)}::text[], ${col((x) => x.type)}::text[], ${textArray(r.map((x) => x.status))}::text[],
      ${textArray(r.map((x) => x.startNs))}::bigint[], ${col((x) => x.endNs)}::bigint[],
      ${col((x) => x.model)}::text[], ${col((x) => x.provider)}::text[],
      ${col((x) => x.cost[0])}::float8[], ${col((x) => x.cost[1])}::float8[], ${col((x) => x.cost[2])}::float8[],
      ${textArray(r.map((x) => x.content))}::text[])
    on conflict (trace_id, span_id) do update set name = excluded.name, type = excluded.type, status = excluded.status,
      start_ns = excluded.start_ns, end_ns = excluded.end_ns, model_name = excluded.model_name, model_provider = excluded.model_provider,
      input_cost = excluded.input_cost, output_cost = excluded.output_cost, total_cost = excluded.total_cost, content = excluded.content`;
}
