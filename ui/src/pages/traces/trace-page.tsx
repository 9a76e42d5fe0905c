import { Fragment, useMemo, useState } from 'react';
import { getExperiment } from '../../api/mlflow';
import { durationMs, fmtMs, getTrace } from '../../api/traces';
import { PageHeader } from '../../components/shell';
import { ErrorBox, Loading, StatusBadge } from '../../components/states';
import { fmtTime } from '../../format';
import { useAsync } from '../../hooks';
import { href, setQuery, useLocation } from '../../router';
import { AssessmentsCard } from './assessments';
import { fmtTokens, tokenUsage, TRACE_TOKEN_USAGE } from './llm';
import { SpanDetail } from './span-detail';
import { treeRows, visibleRows } from './span-tree';
import { msBetween, Waterfall } from './waterfall';
import '../../styles/run.css';
import '../../styles/traces.css';

// One trace: its facts, the span tree as a waterfall (waterfall.tsx), the chosen span's inputs,
// outputs, attributes and events, and the trace's assessments. The chosen span is in the URL
// (`?span=<id>`), so a link can point at one span of a trace.

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
        <Waterfall rows={rows} folded={folded} chosenAt={chosenAt} start={start} total={total} onSelect={select} onFold={fold} />
        {chosen && <SpanDetail span={chosen} traceStart={start} />}
      </div>
      <AssessmentsCard traceId={info.trace_id} assessments={info.assessments ?? []} onAdded={trace.reload} />
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
