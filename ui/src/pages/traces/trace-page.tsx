import { Fragment, useMemo, useState, type KeyboardEvent } from 'react';
import { getExperiment } from '../../api/mlflow';
import { durationMs, fmtMs, getTrace, type Span } from '../../api/traces';
import { PageHeader } from '../../components/shell';
import { ErrorBox, Loading, StatusBadge } from '../../components/states';
import { fmtTime } from '../../format';
import { useAsync } from '../../hooks';
import { href, setQuery, useLocation } from '../../router';
import { AssessmentsCard } from './assessments';
import { fmtTokens, tokenUsage, TRACE_TOKEN_USAGE } from './llm';
import { SpanDetail } from './span-detail';
import '../../styles/run.css';
import '../../styles/traces.css';

// One trace: its facts, the span tree as a waterfall (each bar placed and sized on the trace's
// time axis), the chosen span's inputs, outputs, attributes and events, and the trace's assessments.
// The chosen span is in the URL (`?span=<id>`), so a link can point at one span of a trace; the tree
// folds under a span (its chevron, or ← and →) and the arrow keys move along it.

interface Row {
  span: Span;
  depth: number;
  hasChildren: boolean;
}

/** Spans in tree order (children under their parent, by start time); orphans (parent not received) are roots. */
function treeRows(spans: Span[]): Row[] {
  const ids = new Set(spans.map((s) => s.id));
  const children = new Map<string | undefined, Span[]>();
  for (const s of spans) {
    const parent = s.parentId && ids.has(s.parentId) ? s.parentId : undefined;
    children.set(parent, [...(children.get(parent) ?? []), s]);
  }
  for (const list of children.values()) list.sort((a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0));
  const out: Omit<Row, 'hasChildren'>[] = [];
  const walk = (parent: string | undefined, depth: number) => {
    for (const s of children.get(parent) ?? []) {
      out.push({ span: s, depth });
      if (depth < 64) walk(s.id, depth + 1);
    }
  };
  walk(undefined, 0);
  return out.map((r, i) => ({ ...r, hasChildren: (out[i + 1]?.depth ?? -1) > r.depth }));
}

/** The rows not under a folded span. */
function visibleRows(rows: Row[], folded: ReadonlySet<string>): Row[] {
  const out: Row[] = [];
  let hiddenBelow = Infinity;
  for (const r of rows) {
    if (r.depth > hiddenBelow) continue;
    hiddenBelow = folded.has(r.span.id) ? r.depth : Infinity;
    out.push(r);
  }
  return out;
}

const msBetween = (a: bigint, b: bigint) => Number(b - a) / 1e6;

export function TracePage({ experimentId, traceId }: { experimentId: string; traceId: string }) {
  const trace = useAsync(() => getTrace(traceId), [traceId]);
  const exp = useAsync(() => getExperiment(experimentId), [experimentId]);
  const allRows = useMemo(() => treeRows(trace.data?.spans ?? []), [trace.data]);
  const [folded, setFolded] = useState<ReadonlySet<string>>(new Set());
  const rows = useMemo(() => visibleRows(allRows, folded), [allRows, folded]);
  const { query } = useLocation();
  const selected = query.get('span') ?? undefined;
  const select = (id: string) => {
    const q = new URLSearchParams(query);
    q.set('span', id);
    setQuery(q);
  };
  const fold = (id: string, on: boolean) => {
    const next = new Set(folded);
    if (on) next.add(id);
    else next.delete(id);
    setFolded(next);
  };

  if (trace.error) return <div className="page"><ErrorBox error={trace.error} onRetry={trace.reload} /></div>;
  if (!trace.data) return <div className="page"><Loading label="Loading trace…" /></div>;
  const { info, spans } = trace.data;
  const start = spans.reduce<bigint | undefined>((m, s) => (m === undefined || s.startNs < m ? s.startNs : m), undefined) ?? 0n;
  const end = spans.reduce<bigint>((m, s) => ((s.endNs ?? s.startNs) > m ? (s.endNs ?? s.startNs) : m), start);
  const total = Math.max(msBetween(start, end), 1e-6);
  // A span folded out of sight (or an unknown id) leaves the root chosen.
  const chosenAt = Math.max(0, rows.findIndex((r) => r.span.id === selected));
  const chosen = rows[chosenAt]?.span;
  const onKey = (e: KeyboardEvent) => {
    const row = rows[chosenAt];
    if (!row) return;
    const to = (i: number) => {
      const r = rows[Math.min(rows.length - 1, Math.max(0, i))];
      select(r.span.id);
      document.querySelector<HTMLElement>(`[data-span-id="${r.span.id}"]`)?.focus();
    };
    if (e.key === 'ArrowDown') to(chosenAt + 1);
    else if (e.key === 'ArrowUp') to(chosenAt - 1);
    else if (e.key === 'ArrowLeft' && row.hasChildren && !folded.has(row.span.id)) fold(row.span.id, true);
    else if (e.key === 'ArrowLeft' && row.depth > 0) {
      let parent = chosenAt - 1;
      while (rows[parent].depth >= row.depth) parent--;
      to(parent);
    }
    else if (e.key === 'ArrowRight' && folded.has(row.span.id)) fold(row.span.id, false);
    else return;
    e.preventDefault();
  };
  const sourceRun = info.trace_metadata?.['mlflow.sourceRun'];
  const tokens = tokenUsage(info.trace_metadata?.[TRACE_TOKEN_USAGE]);
  const name = info.tags?.['mlflow.traceName'] ?? traceId;

  return (
    <div className="page trace-page" data-testid="trace-page">
      <PageHeader
        crumbs={[
          { label: 'Experiments', href: href('/experiments') },
          { label: exp.data?.name ?? experimentId, href: href(`/experiments/${experimentId}`) },
          { label: 'Traces', href: href(`/experiments/${experimentId}/traces`) },
        ]}
        title={
          <span className="run-title">
            <span data-testid="trace-title">{name}</span> <StatusBadge status={info.state} />
          </span>
        }
      />
      <div className="facts" data-testid="trace-facts">
        <span><span className="fact-label">Requested</span> {fmtTime(Date.parse(info.request_time))}</span>
        <span><span className="fact-label">Execution time</span> {fmtMs(durationMs(info.execution_duration))}</span>
        <span><span className="fact-label">Spans</span> {spans.length}</span>
        {tokens && <span data-testid="trace-tokens"><span className="fact-label">Tokens</span> {fmtTokens(tokens)}</span>}
        {sourceRun && (
          <span><span className="fact-label">Run</span> <a className="mono" href={href(`/experiments/${experimentId}/runs/${sourceRun}`)}>{sourceRun.slice(0, 8)}</a></span>
        )}
        <span className="mono fact-id" title="Trace ID">{info.trace_id}</span>
      </div>
      <div className="trace-body">
        <section className="card waterfall" aria-label="Spans">
          <div className="waterfall-head">
            <span>Span</span>
            <span className="waterfall-scale"><span>0</span><span>{fmtMs(total / 2)}</span><span>{fmtMs(total)}</span></span>
            <span className="waterfall-ms">Duration</span>
          </div>
          {rows.length === 0 && <p className="muted">This trace has no spans stored (yet).</p>}
          <ul className="waterfall-rows" role="tree" onKeyDown={onKey}>
            {rows.map(({ span, depth, hasChildren }) => {
              const left = (msBetween(start, span.startNs) / total) * 100;
              const width = span.endNs === undefined ? 100 - left : Math.max((msBetween(span.startNs, span.endNs) / total) * 100, 0.4);
              const isOn = chosen?.id === span.id;
              return (
                <li key={span.id} role="treeitem" aria-selected={isOn} aria-level={depth + 1} aria-expanded={hasChildren ? !folded.has(span.id) : undefined}>
                  <button
                    className={`waterfall-row${isOn ? ' on' : ''}`}
                    data-testid="span-row"
                    data-span-id={span.id}
                    tabIndex={isOn ? 0 : -1}
                    onClick={() => select(span.id)}
                  >
                    <span className="waterfall-name" style={{ paddingLeft: `${depth * 14}px` }}>
                      <span
                        className={`fold${hasChildren ? '' : ' leaf'}`}
                        data-testid={hasChildren ? 'span-fold' : undefined}
                        aria-hidden="true"
                        onClick={(e) => {
                          if (!hasChildren) return;
                          e.stopPropagation();
                          fold(span.id, !folded.has(span.id));
                        }}
                      >
                        {hasChildren ? (folded.has(span.id) ? '▸' : '▾') : ''}
                      </span>
                      {span.type && <span className={`span-type t-${span.type.toLowerCase()}`}>{span.type}</span>}
                      <span className="span-name">{span.name}</span>
                    </span>
                    <span className="waterfall-track">
                      <span className={`waterfall-bar s-${span.status.toLowerCase()}`} style={{ left: `${left}%`, width: `${width}%` }} />
                    </span>
                    <span className="waterfall-ms" data-testid="span-duration">{span.endNs === undefined ? 'open' : fmtMs(msBetween(span.startNs, span.endNs))}</span>
                  </button>
                </li>
              );
            })}
          </ul>
        </section>
        {chosen && <SpanDetail span={chosen} traceStart={start} />}
      </div>
      <AssessmentsCard assessments={info.assessments ?? []} />
      <section className="card" aria-label="Tags and metadata">
        <h2 className="card-title">Tags and metadata</h2>
        <dl className="kv" data-testid="trace-tags">
          {[...Object.entries(info.tags ?? {}), ...Object.entries(info.trace_metadata ?? {})].map(([k, v]) => (
            <Fragment key={k}><dt className="mono">{k}</dt><dd className="mono">{v}</dd></Fragment>
          ))}
        </dl>
      </section>
    </div>
  );
}
