import { useMemo } from 'react';
import { fmtMs, traceMetrics, type MetricPoint } from '../../api/traces';
import { LineChart, type ChartLine } from '../../charts/line-chart';
import { ErrorBox } from '../../components/states';
import { useAsync } from '../../hooks';
import { setQuery, useLocation } from '../../router';
import { CostCard, fmtCost, loadSpanOverview, ToolsCard, type SpanOverview } from './overview-spans';

// An experiment's traces at a glance, above the list: how many, how many failed, how slow, how many
// tokens and conversations, what the feedback says, what tools were called and what the model calls
// cost (overview-spans.tsx), and traces and latency over time. Everything is
// the server's QueryTraceMetrics (docs/tracing.md#trace-metrics), a handful of aggregate queries,
// so it costs the same at 100 traces as at 100k.

const RANGES = [
  { key: '24h', label: 'Last 24 hours', ms: 86_400_000, bucket: 3600 },
  { key: '7d', label: 'Last 7 days', ms: 7 * 86_400_000, bucket: 6 * 3600 },
  { key: '30d', label: 'Last 30 days', ms: 30 * 86_400_000, bucket: 86_400 },
] as const;

interface Overview {
  start: number;
  end: number;
  bucket: number;
  count: number;
  errors: number;
  p50?: number;
  p95?: number;
  tokens?: number;
  sessions: number;
  feedback: { name: string; avg?: number; count: number }[];
  byStatus: MetricPoint[];
  latency: MetricPoint[];
  spans: SpanOverview;
}

async function load(experimentId: string, range: (typeof RANGES)[number], filters: string[]): Promise<Overview> {
  const end = Date.now();
  const start = end - range.ms;
  const at = { startMs: start, endMs: end, filters };
  const every = { ...at, bucketSeconds: range.bucket };
  const [status, latency, tokens, sessions, counts, values, byStatus, latencyOverTime, spans] = await Promise.all([
    traceMetrics(experimentId, { ...at, metric: 'trace_count', aggregations: ['COUNT'], dimensions: ['trace_status'] }),
    traceMetrics(experimentId, { ...at, metric: 'latency', aggregations: [{ percentile: 50 }, { percentile: 95 }] }),
    traceMetrics(experimentId, { ...at, metric: 'total_tokens', aggregations: ['SUM'] }),
    traceMetrics(experimentId, { ...at, metric: 'session_count', aggregations: ['COUNT'] }),
    traceMetrics(experimentId, { ...at, view: 'ASSESSMENTS', metric: 'assessment_count', aggregations: ['COUNT'], dimensions: ['assessment_name'] }),
    traceMetrics(experimentId, { ...at, view: 'ASSESSMENTS', metric: 'assessment_value', aggregations: ['AVG'], dimensions: ['assessment_name'] }),
    traceMetrics(experimentId, { ...every, metric: 'trace_count', aggregations: ['COUNT'], dimensions: ['trace_status'] }),
    traceMetrics(experimentId, { ...every, metric: 'latency', aggregations: [{ percentile: 50 }, { percentile: 95 }] }),
    loadSpanOverview(experimentId, at),
  ]);
  const countOf = (p: MetricPoint) => p.values.COUNT ?? 0;
  const avg = new Map(values.map((p) => [p.dimensions?.assessment_name, p.values.AVG]));
  return {
    start,
    end,
    bucket: range.bucket,
    count: status.reduce((n, p) => n + countOf(p), 0),
    errors: status.filter((p) => p.dimensions?.trace_status === 'ERROR').reduce((n, p) => n + countOf(p), 0),
    p50: latency[0]?.values['P50.0'],
    p95: latency[0]?.values['P95.0'],
    tokens: tokens[0]?.values.SUM,
    sessions: sessions[0]?.values.COUNT ?? 0,
    feedback: counts
      .map((p) => ({ name: p.dimensions?.assessment_name ?? '', count: countOf(p), avg: avg.get(p.dimensions?.assessment_name) }))
      .sort((a, b) => b.count - a.count),
    byStatus,
    latency: latencyOverTime,
    spans,
  };
}

/** Every bucket's start (seconds) from the range's first to its last, as the server floors times. */
function buckets(o: Overview): number[] {
  const size = o.bucket * 1000;
  const out: number[] = [];
  for (let t = Math.floor(o.start / size) * size; t <= o.end; t += size) out.push(t / 1000);
  return out;
}

const bucketOf = (p: MetricPoint) => Date.parse(p.dimensions?.time_bucket ?? '') / 1000;

/** One line per value of a point's dimension (or per value key), over every bucket: `fill` where a bucket has no point. */
function lines(o: Overview, points: MetricPoint[], split: (p: MetricPoint) => [string, number][], colors: Record<string, string>, fill: number | null): ChartLine[] {
  const xs = buckets(o);
  const index = new Map(xs.map((x, i) => [x, i]));
  const ys = new Map<string, (number | null)[]>();
  for (const p of points) {
    const i = index.get(bucketOf(p));
    if (i === undefined) continue;
    for (const [label, v] of split(p)) {
      if (!ys.has(label)) ys.set(label, xs.map(() => fill));
      ys.get(label)![i] = v;
    }
  }
  return [...ys].sort(([a], [b]) => a.localeCompare(b)).map(([label, y]) => ({ id: label, label, color: colors[label] ?? '#6b7c93', x: xs, y }));
}

const STATUS_COLORS = { OK: '#2f9e6f', ERROR: '#d9534f', IN_PROGRESS: '#7a8aa0' };
const LATENCY_COLORS = { p50: '#3b82c4', p95: '#e08a2b' };

function Tile({ label, value, hint, testId }: { label: string; value: string; hint?: string; testId: string }) {
  return (
    <div className="overview-tile" data-testid={testId} title={hint}>
      <div className="overview-label">{label}</div>
      <div className="overview-value">{value}</div>
    </div>
  );
}

/**
 * `changes` counts the list's refreshes and deletions: each loads the overview again. `filters`
 * (metrics filters, e.g. a run's traces) narrow every number.
 */
export function TraceOverview({ experimentId, changes, filters = [] }: { experimentId: string; changes: number; filters?: string[] }) {
  const { query } = useLocation();
  const range = RANGES.find((r) => r.key === query.get('trange')) ?? RANGES[1];
  const data = useAsync(() => load(experimentId, range, filters), [experimentId, range.key, changes, filters.join('\n')]);
  const o = data.data;
  const statusLines = useMemo(() => (o ? lines(o, o.byStatus, (p) => [[p.dimensions?.trace_status ?? '', p.values.COUNT ?? 0]], STATUS_COLORS, 0) : []), [o]);
  const latencyLines = useMemo(
    () => (o ? lines(o, o.latency, (p) => [['p50', p.values['P50.0']], ['p95', p.values['P95.0']]].filter((e): e is [string, number] => e[1] !== undefined), LATENCY_COLORS, null) : []),
    [o],
  );
  const pick = (key: string) => {
    const q = new URLSearchParams(query);
    key === RANGES[1].key ? q.delete('trange') : q.set('trange', key);
    setQuery(q);
  };
  if (data.error) return <ErrorBox error={data.error} onRetry={data.reload} />;
  const errorRate = o && o.count ? `${((100 * o.errors) / o.count).toFixed(o.errors && o.errors < o.count / 100 ? 2 : 1)}%` : '—';
  return (
    <section className="trace-overview" data-testid="trace-overview" aria-busy={data.loading}>
      <div className="overview-head">
        <h3>Overview</h3>
        <select className="input" aria-label="Overview range" value={range.key} onChange={(e) => pick(e.target.value)}>
          {RANGES.map((r) => <option key={r.key} value={r.key}>{r.label}</option>)}
        </select>
      </div>
      {o?.count === 0 ? (
        <p className="muted" data-testid="overview-empty">No traces in the {range.label.toLowerCase()}.</p>
      ) : (
        <div className="overview-tiles">
          <Tile testId="overview-traces" label="Traces" value={o ? o.count.toLocaleString() : '…'} />
          <Tile testId="overview-errors" label="Errors" value={o ? `${o.errors.toLocaleString()} · ${errorRate}` : '…'} hint="Traces whose state is ERROR, and their share" />
          <Tile testId="overview-latency" label="Latency p50 / p95" value={o ? `${fmtMs(o.p50)} / ${fmtMs(o.p95)}` : '…'} />
          <Tile testId="overview-tokens" label="Tokens" value={o ? (o.tokens?.toLocaleString() ?? '—') : '…'} hint="Total tokens the LLM spans used (mlflow.trace.tokenUsage)" />
          <Tile testId="overview-sessions" label="Sessions" value={o ? o.sessions.toLocaleString() : '…'} hint="Distinct conversations (mlflow.trace.session)" />
          {o && o.spans.calls > 0 && (
            <Tile testId="overview-tool-calls" label="Tool calls" value={`${o.spans.calls.toLocaleString()} · ${o.spans.errors.toLocaleString()} failed`} hint="Spans of type TOOL, and those whose status is ERROR" />
          )}
          {o?.spans.cost !== undefined && <Tile testId="overview-cost" label="Cost" value={fmtCost(o.spans.cost)} hint="Total cost of the model calls (mlflow.llm.cost on their spans), in US dollars" />}
          {o?.feedback.slice(0, 3).map((f) => (
            <Tile key={f.name} testId="overview-feedback" label={`Feedback: ${f.name}`} value={f.avg === undefined ? `${f.count.toLocaleString()} given` : `${Number(f.avg.toFixed(2))} avg · ${f.count.toLocaleString()}`} hint="Average of the numeric and yes/no values still standing" />
          ))}
        </div>
      )}
      {o && o.count > 0 && (
        <div className="overview-charts">
          <div className="card" data-testid="overview-chart-traces">
            <div className="card-title">Traces by state</div>
            <LineChart lines={statusLines} xKind="time" smoothing={0} log={false} band={false} height={170} />
          </div>
          <div className="card" data-testid="overview-chart-latency">
            <div className="card-title">Latency (ms)</div>
            <LineChart lines={latencyLines} xKind="time" smoothing={0} log={false} band={false} height={170} />
          </div>
        </div>
      )}
      {o && o.count > 0 && (o.spans.calls > 0 || o.spans.costs.length > 0) && (
        <div className="overview-breakdowns">
          {o.spans.calls > 0 && <ToolsCard s={o.spans} />}
          {o.spans.costs.length > 0 && <CostCard s={o.spans} />}
        </div>
      )}
    </section>
  );
}
