import { sql, type SQL } from 'drizzle-orm';
import { rows } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { invalidParam } from '../../errors.js';
import { lookup } from '../search/parse.js';
import { experimentIdOf } from '../ids.js';
import { ASSESSMENT_VALID, ASSESSMENT_VALUE_TEXT } from './assessment-sql.js';
import { TRACE_NAME_TAG, TRACE_SESSION_METADATA } from './wire.js';

// QueryTraceMetrics (`POST /api/3.0/mlflow/traces/metrics`), what MLflow's UI Overview charts ask:
// an aggregate of one metric over an experiment's traces or their assessments, optionally per time
// bucket and per dimension, as `mlflow server` computes it (store/tracking/utils/
// sql_trace_metrics_utils.py). MLflow keeps token counts and an assessment's numeric value in
// columns; Cairn reads them from the trace's metadata text and the assessment's body. The spans view
// reads the span rows (trace_spans), as MLflow's reads its spans table.

export type ViewType = 'TRACES' | 'SPANS' | 'ASSESSMENTS';
type Aggregation = 'COUNT' | 'SUM' | 'AVG' | 'PERCENTILE' | 'MIN' | 'MAX';

interface MetricConfig {
  aggregations: readonly Aggregation[];
  dimensions: readonly string[];
}

const NUMERIC: readonly Aggregation[] = ['SUM', 'AVG', 'MIN', 'MAX', 'PERCENTILE'];
const TOKENS: MetricConfig = { aggregations: NUMERIC, dimensions: ['trace_name'] };

// MLflow's VIEW_TYPE_CONFIGS: which metrics each view has, their aggregations and dimensions.
const CONFIGS: Record<ViewType, Record<string, MetricConfig>> = {
  TRACES: {
    trace_count: { aggregations: ['COUNT'], dimensions: ['trace_name', 'trace_status'] },
    session_count: { aggregations: ['COUNT'], dimensions: [] },
    latency: { aggregations: ['AVG', 'MIN', 'MAX', 'PERCENTILE'], dimensions: ['trace_name'] },
    input_tokens: TOKENS,
    output_tokens: TOKENS,
    total_tokens: TOKENS,
    cache_read_input_tokens: TOKENS,
    cache_creation_input_tokens: TOKENS,
  },
  SPANS: {
    span_count: { aggregations: ['COUNT'], dimensions: ['span_name', 'span_type', 'span_status', 'span_model_name', 'span_model_provider'] },
    latency: { aggregations: ['AVG', 'MIN', 'MAX', 'PERCENTILE'], dimensions: ['span_name', 'span_status'] },
    input_cost: { aggregations: NUMERIC, dimensions: ['span_model_name', 'span_model_provider'] },
    output_cost: { aggregations: NUMERIC, dimensions: ['span_model_name', 'span_model_provider'] },
    total_cost: { aggregations: NUMERIC, dimensions: ['span_model_name', 'span_model_provider'] },
  },
  ASSESSMENTS: {
    assessment_count: { aggregations: ['COUNT'], dimensions: ['assessment_name', 'assessment_value'] },
    assessment_value: { aggregations: ['AVG', 'MIN', 'MAX', 'PERCENTILE'], dimensions: ['assessment_name'] },
  },
};

export interface MetricsQuery {
  experimentIds: string[];
  viewType: ViewType;
  metricName: string;
  aggregations: { type: string; percentile?: number }[];
  dimensions: string[];
  filters: string[];
  intervalSeconds?: number;
  startMs?: number;
  endMs?: number;
  maxResults: number;
}

export interface MetricDataPoint {
  metric_name: string;
  dimensions?: Record<string, string>;
  values: Record<string, number>;
}

const TOKEN_USAGE = 'mlflow.trace.tokenUsage';
const SPAN_COSTS = new Set(['input_cost', 'output_cost', 'total_cost']);
const NS_PER_MS = 1_000_000n;

// A token count from the client's `mlflow.trace.tokenUsage` metadata (JSON text the client writes),
// cut out of the row's metadata text from that key on, where the JSON is a string (its quotes
// escaped): `\"input_tokens\": 12,` gives " 12", which must be digits to count. No JSON is parsed,
// so a malformed value is no count rather than a failed query. 100k traces take ~0.35 s on the dev
// Postgres (parsed as JSON: 1.3 s; one pattern searched through the text: 0.6-4 s).
function tokenCount(key: string): Metric {
  const after = `substr(t.metadata_json, nullif(strpos(t.metadata_json, '"${TOKEN_USAGE}":"'), 0))`;
  const field = `\\"${key}\\":`;
  const raw = `split_part(split_part(substr(${after}, nullif(strpos(${after}, '${field}'), 0) + ${field.length}), ',', 1), '}', 1)`;
  return {
    raw: sql.raw(raw),
    value: (x) => sql.raw(`(CASE WHEN btrim(${x}) <> '' AND length(${x}) <= 30 AND translate(${x}, '0123456789 ', '') = '' THEN ${x}::numeric END)`),
  };
}

// The assessment's value as MLflow's aggregate_value: a number, a boolean as 1/0, "yes"/"no" as 1/0.
const VALUE = `coalesce(a.body -> 'feedback' -> 'value', a.body -> 'expectation' -> 'value')`;
const ASSESSMENT_NUMBER = sql.raw(`(CASE jsonb_typeof(${VALUE})
  WHEN 'number' THEN ${VALUE}::numeric
  WHEN 'boolean' THEN CASE WHEN ${VALUE} = 'true'::jsonb THEN 1 ELSE 0 END
  WHEN 'string' THEN CASE lower(trim(${VALUE} #>> '{}')) WHEN 'yes' THEN 1 WHEN 'no' THEN 0 END
  END)`);

/** A metric's value for a row: `raw` read from the row, then `value` of that (computed once, as `x`). */
interface Metric {
  raw: SQL;
  value?: (x: string) => SQL;
}

const SPAN_METRICS: Record<string, string> = {
  span_count: 's.span_id',
  // Whole milliseconds, as MLflow's integer division.
  latency: '((s.end_ns - s.start_ns) / 1000000)',
  input_cost: 's.input_cost',
  output_cost: 's.output_cost',
  total_cost: 's.total_cost',
};

function column(view: ViewType, metric: string): Metric {
  if (view === 'SPANS') return { raw: sql.raw(SPAN_METRICS[metric]) };
  if (view === 'ASSESSMENTS') return { raw: metric === 'assessment_count' ? sql.raw('a.assessment_id') : ASSESSMENT_NUMBER };
  if (metric === 'trace_count') return { raw: sql.raw('t.trace_id') };
  // The LIKE first: reading the metadata as JSON costs more, and most traces may hold no session.
  if (metric === 'session_count') return { raw: sql.raw(`(CASE WHEN t.metadata_json LIKE '%"${TRACE_SESSION_METADATA}":%' THEN t.metadata_json::jsonb ->> '${TRACE_SESSION_METADATA}' END)`) };
  if (metric === 'latency') return { raw: sql.raw('t.execution_duration') };
  return tokenCount(metric);
}

const DIMENSIONS: Record<string, string> = {
  trace_name: 't.name',
  trace_status: 't.state',
  assessment_name: "(a.body ->> 'assessment_name')",
  span_name: 's.name',
  span_type: 's.type',
  span_status: 's.status',
  span_model_name: 's.model_name',
  span_model_provider: 's.model_provider',
};

function dimension(name: string): SQL {
  return name === 'assessment_value' ? ASSESSMENT_VALUE_TEXT : sql.raw(DIMENSIONS[name]);
}

/** The key of an aggregation's value: its type, or P<percentile> as Python prints the float (P95.0). */
function label(a: { type: string; percentile?: number }): string {
  if (a.type !== 'PERCENTILE') return a.type;
  const p = a.percentile!;
  return `P${Number.isInteger(p) ? `${p}.0` : String(p)}`;
}

function aggregate(a: { type: string; percentile?: number }, col: SQL, distinct: boolean): SQL {
  switch (a.type) {
    case 'COUNT':
      return distinct ? sql`count(DISTINCT ${col})` : sql`count(${col})`;
    case 'PERCENTILE':
      return sql`percentile_cont(${a.percentile! / 100}::float8) WITHIN GROUP (ORDER BY ${col})`;
    default:
      return sql`${sql.raw(a.type.toLowerCase())}(${col})`;
  }
}

const SPAN_FILTER_COLUMNS: Record<string, string> = { name: 's.name', status: 's.status', type: 's.type' };

/**
 * A metrics filter, `<view>.<entity>[.<key>] = 'value'` (SearchTraceMetricsUtils): `trace.status`,
 * `trace.tag.<key>`, `trace.metadata.<key>`, `assessment.name`, `assessment.type`; `span.*` only
 * on the spans view.
 */
function filterCondition(view: ViewType, filter: string): SQL {
  const m = /^\s*(trace|span|assessment)\.([A-Za-z_]+)(?:\.(`[^`]+`|"[^"]+"|[^\s=!]+))?\s*=\s*(?:'((?:[^']|'')*)'|"((?:[^"]|"")*)")\s*$/.exec(filter);
  if (!m) throw invalidParam(`Invalid filter '${filter.slice(0, 200)}': expected <view>.<entity>[.<key>] = '<value>', e.g. trace.status = 'OK'`);
  const [, scope, entity, rawKey, single, double] = m;
  const value = single !== undefined ? single.replace(/''/g, "'") : double.replace(/""/g, '"');
  const key = rawKey?.replace(/^[`"]|[`"]$/g, '');
  if (scope === 'span') {
    if (view !== 'SPANS') throw invalidParam(`Filtering by span is only supported for SPANS view type, got ${view}`);
    const spanColumn = key ? undefined : lookup(SPAN_FILTER_COLUMNS, entity);
    if (!spanColumn) throw invalidParam(`Invalid entity '${entity}' specified for view type 'span'. Valid entities are ['name', 'status', 'type']`);
    return sql`${sql.raw(spanColumn)} = ${value}`;
  }
  if (scope === 'assessment') {
    if (view !== 'ASSESSMENTS') throw invalidParam(`Filtering by assessment is only supported for ASSESSMENTS view type, got ${view}`);
    if (entity === 'name' && !key) return sql`(a.body ->> 'assessment_name') = ${value}`;
    if (entity === 'type' && !key) return sql`(a.body -> ${value}) IS NOT NULL AND ${value} IN ('feedback', 'expectation')`;
    throw invalidParam(`Invalid assessment filter entity '${entity}': expected name or type`);
  }
  if (entity === 'status' && !key) return sql`t.state = ${value}`;
  if (entity === 'tag' && key) {
    if (key === TRACE_NAME_TAG) return sql`t.name = ${value}`;
    return sql`EXISTS (SELECT 1 FROM trace_tags kv WHERE kv.trace_id = t.trace_id AND kv.key = ${key} AND kv.value = ${value})`;
  }
  if (entity === 'metadata' && key) {
    if (key === TRACE_SESSION_METADATA) return sql`(t.metadata_json::jsonb ->> ${TRACE_SESSION_METADATA}) = ${value}`;
    const metadata = sql`EXISTS (SELECT 1 FROM trace_metadata kv WHERE kv.trace_id = t.trace_id AND kv.key = ${key} AND kv.value = ${value})`;
    // A run's traces include those linked to it afterwards, as in search_traces.
    if (key === 'mlflow.sourceRun') return sql`(${metadata} OR EXISTS (SELECT 1 FROM trace_run_links l WHERE l.trace_id = t.trace_id AND l.run_id = ${value}))`;
    return metadata;
  }
  throw invalidParam(`Invalid entity '${entity}' specified for view type 'trace'. Valid entities are ['status', 'tag', 'metadata']`);
}

/** Checks the request as MLflow's validate_query_trace_metrics_params does, with its messages. */
function check(q: MetricsQuery): void {
  const metrics = CONFIGS[q.viewType];
  const config = Object.prototype.hasOwnProperty.call(metrics, q.metricName) ? metrics[q.metricName] : undefined;
  if (!config) throw invalidParam(`metric_name must be one of ${pyList(Object.keys(metrics))}, got '${q.metricName.slice(0, 200)}'`);
  const badAggs = [...new Set(q.aggregations.map((a) => a.type))].filter((t) => !(config.aggregations as readonly string[]).includes(t));
  if (badAggs.length) {
    throw invalidParam(`Found invalid aggregation_type(s): ${pyList(badAggs.sort())}. Supported aggregation types: ${pyList([...config.aggregations].sort())}`);
  }
  const badDims = [...new Set(q.dimensions)].filter((d) => !config.dimensions.includes(d));
  if (badDims.length) throw invalidParam(`Found invalid dimension(s): ${pyList(badDims.sort())}. Supported dimensions: ${pyList([...config.dimensions].sort())}`);
  for (const a of q.aggregations) {
    if (a.type === 'PERCENTILE' && (a.percentile === undefined || !Number.isFinite(a.percentile))) throw invalidParam('Percentile value is required for PERCENTILE aggregation');
    if (a.type === 'PERCENTILE' && (a.percentile! > 100 || a.percentile! < 0)) throw invalidParam(`Percentile value must be between 0 and 100, got ${a.percentile}`);
    if (a.type !== 'PERCENTILE' && a.percentile !== undefined) throw invalidParam(`Percentile value is only allowed for PERCENTILE aggregation, got ${a.type}`);
  }
  if (q.intervalSeconds !== undefined && (q.startMs === undefined || q.endMs === undefined)) {
    throw invalidParam('start_time_ms and end_time_ms are required if time_interval_seconds is set');
  }
  if (q.intervalSeconds !== undefined && q.intervalSeconds <= 0) throw invalidParam('time_interval_seconds must be a positive integer');
}

const pyList = (items: string[]) => `[${items.map((i) => `'${i}'`).join(', ')}]`;

/** A bucket's start (epoch ms) as Python's datetime.isoformat() in UTC writes it. */
function isoBucket(ms: number): string {
  const iso = new Date(ms).toISOString();
  const [date, rest] = iso.split('T');
  const [clock, fraction] = rest.replace('Z', '').split('.');
  return `${date}T${clock}${fraction && fraction !== '000' ? `.${fraction}000` : ''}+00:00`;
}

export async function queryTraceMetrics(deps: Deps, q: MetricsQuery): Promise<MetricDataPoint[]> {
  check(q);
  const experiments = q.experimentIds.map(experimentIdOf);
  if (!experiments.length) return [];
  const assessments = q.viewType === 'ASSESSMENTS';
  const spans = q.viewType === 'SPANS';
  // Span costs are placed in time by the span's start (bucket and range), as MLflow's; span counts
  // and latency take their trace's time for the range, and every span metric its start for buckets.
  const spanTime = spans && SPAN_COSTS.has(q.metricName);
  const col = column(q.viewType, q.metricName);
  const where: SQL[] = [sql`t.experiment_id = ANY(${`{${experiments.join(',')}}`}::bigint[])`];
  if (assessments) where.push(ASSESSMENT_VALID);
  // Inclusive at both ends, as MLflow's time ranges are (a span's end: every nanosecond of that millisecond).
  if (spanTime) {
    if (q.startMs !== undefined) where.push(sql`s.start_ns >= ${String(BigInt(Math.trunc(q.startMs)) * NS_PER_MS)}::numeric`);
    if (q.endMs !== undefined) where.push(sql`s.start_ns < ${String((BigInt(Math.trunc(q.endMs)) + 1n) * NS_PER_MS)}::numeric`);
  } else {
    if (q.startMs !== undefined) where.push(sql`t.request_time >= ${q.startMs}`);
    if (q.endMs !== undefined) where.push(sql`t.request_time <= ${q.endMs}`);
  }
  for (const f of q.filters) where.push(filterCondition(q.viewType, f));
  const groups: { name: string; expr: SQL }[] = [];
  if (q.intervalSeconds) {
    const size = String(q.intervalSeconds * 1000);
    const time = spans ? sql`floor(s.start_ns::numeric / 1000000)` : sql`t.request_time::numeric`;
    groups.push({ name: 'time_bucket', expr: sql`(floor(${time} / ${size}::numeric) * ${size}::numeric)` });
  }
  for (const d of q.dimensions) groups.push({ name: d, expr: dimension(d) });
  const from = assessments ? sql`assessments a JOIN traces t ON t.trace_id = a.trace_id` : spans ? sql`trace_spans s JOIN traces t ON t.trace_id = s.trace_id` : sql`traces t`;
  // Each row's value and groups computed once, below the fence (OFFSET 0): every aggregate and the
  // null tests read them, where a computed value (tokens, a session) would be computed for each.
  // Rows without a value or a group are left out before grouping, as in MLflow, so they take no
  // place under max_results.
  const names = groups.map((_, i) => `g${i}`);
  const read = sql`SELECT ${sql.join([sql`${col.raw} AS x`, ...groups.map((g, i) => sql`${g.expr} AS ${sql.raw(names[i])}`)], sql`, `)}
    FROM ${from} WHERE ${sql.join(where, sql` AND `)} OFFSET 0`;
  const inner = col.value ? sql`SELECT ${sql.join([sql`${col.value('x')} AS v`, ...names.map((n) => sql.raw(n))], sql`, `)} FROM (${read}) r OFFSET 0` : sql`SELECT x AS v${sql.raw(names.map((n) => `, ${n}`).join(''))} FROM (${read}) r`;
  const distinct = q.metricName === 'session_count';
  const selected = [
    ...names.map((n) => sql.raw(n)),
    ...q.aggregations.map((a, i) => sql`${aggregate(a, sql.raw('v'), distinct)}::float8 AS ${sql.raw(`v${i}`)}`),
  ];
  const present = sql.raw(['v', ...names].map((n) => `${n} IS NOT NULL`).join(' AND '));
  const grouping = names.length ? sql.raw(` GROUP BY ${names.join(', ')} ORDER BY ${names.join(', ')}`) : sql``;
  const found = await rows<Record<string, string | number | null>>(
    deps.db,
    sql`SELECT ${sql.join(selected, sql`, `)} FROM (${inner}) s WHERE ${present}${grouping} LIMIT ${q.maxResults}`,
  );
  const points: MetricDataPoint[] = [];
  for (const row of found) {
    const values: Record<string, number> = {};
    q.aggregations.forEach((a, i) => {
      const v = row[`v${i}`];
      if (v !== null && v !== undefined) values[label(a)] = Number(v);
    });
    if (!Object.keys(values).length) continue;
    const point: MetricDataPoint = { metric_name: q.metricName, values };
    if (groups.length) {
      point.dimensions = Object.fromEntries(groups.map((g, i) => [g.name, g.name === 'time_bucket' ? isoBucket(Number(row[`g${i}`])) : String(row[`g${i}`])]));
    }
    points.push(point);
  }
  return points;
}
