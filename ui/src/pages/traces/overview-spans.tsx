import { fmtMs, traceMetrics, type MetricsRequest } from '../../api/traces';
import { setQuery, useLocation } from '../../router';
import { narrowed, quoted } from './trace-filter';

// What the spans view of QueryTraceMetrics adds to the overview: the tool calls an agent made (how
// many, how many failed, how slow, tool by tool) and what its model calls cost (`mlflow.llm.cost`,
// model by model). Four aggregate queries, sent beside the overview's others; a part without data
// (no TOOL span, no cost) shows nothing rather than zeros.

export interface ToolStat {
  name: string;
  calls: number;
  errors: number;
  avg?: number;
  p95?: number;
}

export interface SpanOverview {
  tools: ToolStat[];
  calls: number;
  errors: number;
  cost?: number;
  costs: { model?: string; cost: number }[];
}

const TOOL = `span.type = 'TOOL'`;

export async function loadSpanOverview(experimentId: string, at: Pick<MetricsRequest, 'startMs' | 'endMs' | 'filters'>): Promise<SpanOverview> {
  const spans = { ...at, view: 'SPANS' as const };
  const tools = { ...spans, filters: [...(at.filters ?? []), TOOL] };
  const [counts, latency, total, byModel] = await Promise.all([
    traceMetrics(experimentId, { ...tools, metric: 'span_count', aggregations: ['COUNT'], dimensions: ['span_name', 'span_status'] }),
    traceMetrics(experimentId, { ...tools, metric: 'latency', aggregations: ['AVG', { percentile: 95 }], dimensions: ['span_name'] }),
    traceMetrics(experimentId, { ...spans, metric: 'total_cost', aggregations: ['SUM'] }),
    traceMetrics(experimentId, { ...spans, metric: 'total_cost', aggregations: ['SUM'], dimensions: ['span_model_name'] }),
  ]);
  const byName = new Map<string, ToolStat>();
  for (const p of counts) {
    const name = p.dimensions?.span_name ?? '';
    const t = byName.get(name) ?? { name, calls: 0, errors: 0 };
    t.calls += p.values.COUNT ?? 0;
    if (p.dimensions?.span_status === 'ERROR') t.errors += p.values.COUNT ?? 0;
    byName.set(name, t);
  }
  for (const p of latency) {
    const t = byName.get(p.dimensions?.span_name ?? '');
    if (t) Object.assign(t, { avg: p.values.AVG, p95: p.values['P95.0'] });
  }
  const list = [...byName.values()].sort((a, b) => b.calls - a.calls || a.name.localeCompare(b.name));
  const cost = total[0]?.values.SUM;
  const costs: SpanOverview['costs'] = byModel.map((p) => ({ model: p.dimensions?.span_model_name, cost: p.values.SUM ?? 0 }));
  // Spans with a cost but no model are left out of the split by model: their share is shown apart.
  const unnamed = (cost ?? 0) - costs.reduce((n, c) => n + c.cost, 0);
  if (unnamed > 1e-9) costs.push({ cost: unnamed });
  return {
    tools: list,
    calls: list.reduce((n, t) => n + t.calls, 0),
    errors: list.reduce((n, t) => n + t.errors, 0),
    cost,
    costs: costs.sort((a, b) => b.cost - a.cost),
  };
}

/** US dollars, as MLflow prices model calls: cents and up to four places below a dollar. */
export function fmtCost(usd: number | undefined): string {
  if (usd === undefined) return '—';
  const digits = usd >= 1 ? 2 : 4;
  return `$${usd.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: digits })}`;
}

/** A thin bar: `value`'s share of the largest in its table. */
function Share({ value, max }: { value: number; max: number }) {
  return (
    <span className="overview-share" aria-hidden="true">
      <span style={{ width: `${max > 0 ? Math.max(2, (100 * value) / max) : 0}%` }} />
    </span>
  );
}

const SHOWN = 6;

// Span latencies are whole milliseconds (as MLflow's): "5 ms", not "5.0 ms"; zero is under one.
const wholeMs = (ms: number | undefined) => (ms === undefined || ms === 0 || ms >= 1000 ? fmtMs(ms) : `${Math.round(ms)} ms`);

/** Tool calls tool by tool; a tool's name narrows the list below to the traces that called it. */
export function ToolsCard({ s }: { s: SpanOverview }) {
  const { query } = useLocation();
  const max = s.tools[0]?.calls ?? 0;
  const narrow = (name: string) => {
    const q = new URLSearchParams(query);
    q.set('tfilter', narrowed(q.get('tfilter') ?? '', `${TOOL} AND span.name = ${quoted(name)}`));
    setQuery(q);
  };
  return (
    <div className="card" data-testid="overview-tools">
      <div className="card-title">Tool calls</div>
      <table className="table overview-table">
        <thead>
          <tr>
            <th>Tool</th>
            <th className="num">Calls</th>
            <th className="num">Failed</th>
            <th className="num">Avg</th>
            <th className="num">p95</th>
          </tr>
        </thead>
        <tbody>
          {s.tools.slice(0, SHOWN).map((t) => (
            <tr key={t.name} data-testid="overview-tool-row">
              <td className="overview-name">
                <button className="linklike" title={`Only the traces that called ${t.name}`} onClick={() => narrow(t.name)}>{t.name}</button>
                <Share value={t.calls} max={max} />
              </td>
              <td className="num">{t.calls.toLocaleString()}</td>
              <td className={`num${t.errors ? ' overview-failed' : ''}`}>{t.errors.toLocaleString()}</td>
              <td className="num">{wholeMs(t.avg)}</td>
              <td className="num">{wholeMs(t.p95)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {s.tools.length > SHOWN && <div className="muted overview-more">and {s.tools.length - SHOWN} more tools</div>}
    </div>
  );
}

/** What the model calls cost, model by model. */
export function CostCard({ s }: { s: SpanOverview }) {
  const max = s.costs[0]?.cost ?? 0;
  return (
    <div className="card" data-testid="overview-costs">
      <div className="card-title">Cost by model</div>
      <table className="table overview-table">
        <thead>
          <tr>
            <th>Model</th>
            <th className="num">Cost</th>
            <th className="num">Share</th>
          </tr>
        </thead>
        <tbody>
          {s.costs.slice(0, SHOWN).map((c) => (
            <tr key={c.model ?? ''} data-testid="overview-cost-row">
              <td className="overview-name">
                {c.model ? <span>{c.model}</span> : <span className="muted">no model named</span>}
                <Share value={c.cost} max={max} />
              </td>
              <td className="num">{fmtCost(c.cost)}</td>
              <td className="num">{s.cost ? `${Math.round((100 * c.cost) / s.cost)}%` : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {s.costs.length > SHOWN && <div className="muted overview-more">and {s.costs.length - SHOWN} more models</div>}
    </div>
  );
}
