import { Fragment, useMemo, useState } from 'react';
import { getExperiment } from '../../api/mlflow';
import { deleteTraceTag, durationMs, experimentOf, fmtMs, getTrace, setTraceTag, type Span } from '../../api/traces';
import { TagEditor } from '../../components/editable';
import { PageHeader } from '../../components/shell';
import { ErrorBox, Loading, StatusBadge } from '../../components/states';
import { fmtTime } from '../../format';
import { useAsync } from '../../hooks';
import { href, navigate, setQuery, useLocation } from '../../router';
import { AssessmentsCard } from './assessments';
import { DeleteTracesDialog } from './delete-traces';
import { fmtTokens, tokenUsage, TRACE_TOKEN_USAGE } from './llm';
import { SpanDetail } from './span-detail';
import { ancestors, treeRows, visibleRows, type Row } from './span-tree';
import { msBetween, Waterfall } from './waterfall';
import '../../styles/run.css';
import '../../styles/traces.css';

// One trace: its facts, the span tree as a waterfall (waterfall.tsx), the chosen span's inputs,
// outputs, attributes and events, and the trace's assessments. The chosen span is in the URL
// (`?span=<id>`), so a link can point at one span of a trace.

/** The spans whose name holds the find box's text (any case), in tree order. */
function matching(rows: Row<Span>[], find: string): Row<Span>[] {
  const q = find.trim().toLowerCase();
  return q ? rows.filter((r) => r.span.name.toLowerCase().includes(q)) : [];
}

/** Where the span, or else its nearest ancestor left in sight by the folds, is in the rows; -1 if neither is. */
function visibleAncestorAt(at: ReadonlyMap<string, number>, parents: ReadonlyMap<string, string | undefined>, id: string | undefined): number {
  if (!id) return -1;
  const shown = [id, ...ancestors(parents, id)].find((p) => at.has(p));
  return shown === undefined ? -1 : at.get(shown)!;
}

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
  const [find, setFind] = useState('');
  const [deleting, setDeleting] = useState(false);
  const matches = useMemo(() => matching(allRows, find), [allRows, find]);
  const matched = useMemo(() => new Set(matches.map((r) => r.span.id)), [matches]);
  const position = useMemo(() => new Map(allRows.map((r, i) => [r.span.id, i])), [allRows]);
  const shownAt = useMemo(() => new Map(rows.map((r, i) => [r.span.id, i])), [rows]);
  const parents = useMemo(() => new Map((trace.data?.spans ?? []).map((s) => [s.id, s.parentId])), [trace.data]);

  if (trace.error) return <div className="page"><ErrorBox error={trace.error} onRetry={trace.reload} /></div>;
  if (!trace.data) return <div className="page"><Loading label="Loading trace…" /></div>;
  const { info, spans } = trace.data;
  const start = spans.reduce<bigint | undefined>((m, s) => (m === undefined || s.startNs < m ? s.startNs : m), undefined) ?? 0n;
  const end = spans.reduce<bigint>((m, s) => ((s.endNs ?? s.startNs) > m ? (s.endNs ?? s.startNs) : m), start);
  const total = Math.max(msBetween(start, end), 1e-6);
  // A span folded out of sight leaves its nearest ancestor in sight chosen; an unknown id, the root.
  const chosenAt = Math.max(0, visibleAncestorAt(shownAt, parents, selected));
  const chosen = rows[chosenAt]?.span;
  // The find box moves to the next (or previous) matching span in tree order from the chosen one,
  // unfolding what hides it.
  const jump = (found: Row<Span>[], dir: 1 | -1) => {
    if (!found.length) return;
    const from = chosen ? (position.get(chosen.id) ?? -1) : -1;
    const at = (r: Row<Span>) => position.get(r.span.id)!;
    const next = dir > 0 ? (found.find((r) => at(r) > from) ?? found[0]) : ([...found].reverse().find((r) => at(r) < from) ?? found[found.length - 1]);
    const open = new Set(folded);
    for (const p of ancestors(parents, next.span.id)) open.delete(p);
    setFolded(open);
    select(next.span.id);
  };
  const findAt = matches.findIndex((r) => r.span.id === chosen?.id);
  const findBox = (
    <div className="span-find">
      <input
        className="input"
        type="search"
        aria-label="Find span"
        placeholder="Find a span by name (Enter: next, Shift+Enter: previous)"
        value={find}
        onChange={(e) => {
          setFind(e.target.value);
          const found = matching(allRows, e.target.value);
          if (found.length && !found.some((r) => r.span.id === chosen?.id)) jump(found, 1);
        }}
        onKeyDown={(e) => {
          if (e.key !== 'Enter') return;
          e.preventDefault();
          jump(matches, e.shiftKey ? -1 : 1);
        }}
      />
      {find.trim() && (
        <span className="muted" data-testid="span-find-count">
          {matches.length ? `${findAt >= 0 ? `${findAt + 1} of ` : ''}${matches.length.toLocaleString()} ${matches.length === 1 ? 'span' : 'spans'}` : 'no span matches'}
        </span>
      )}
    </div>
  );
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
        actions={<button className="btn btn-danger" onClick={() => setDeleting(true)}>Delete trace</button>}
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
        <Waterfall rows={rows} folded={folded} matched={matched} toolbar={spans.length > 1 ? findBox : undefined} chosenAt={chosenAt} start={start} total={total} onSelect={select} onFold={fold} />
        {chosen && <SpanDetail span={chosen} traceStart={start} />}
      </div>
      {deleting && (
        <DeleteTracesDialog
          title="Delete this trace?"
          traces={new Map([[info.trace_id, experimentOf(info, experimentId)]])}
          onClose={() => setDeleting(false)}
          onDeleted={() => navigate(`/experiments/${experimentId}/traces`)}
        />
      )}
      <AssessmentsCard traceId={info.trace_id} assessments={info.assessments ?? []} onAdded={trace.reload} />
      <section className="card" aria-label="Tags">
        <h2 className="card-title">Tags</h2>
        <TagEditor
          tags={Object.entries(info.tags ?? {}).map(([key, value]) => ({ key, value }))}
          onSet={(k, v) => setTraceTag(info.trace_id, k, v).then(trace.reload)}
          onDelete={(k) => deleteTraceTag(info.trace_id, k).then(trace.reload)}
        />
      </section>
      <section className="card" aria-label="Metadata">
        <h2 className="card-title">Metadata and MLflow's own tags</h2>
        <dl className="kv" data-testid="trace-tags">
          {[...Object.entries(info.tags ?? {}).filter(([k]) => k.startsWith('mlflow.')), ...Object.entries(info.trace_metadata ?? {})].map(([k, v]) => (
            <Fragment key={k}><dt className="mono">{k}</dt><dd className="mono">{v}</dd></Fragment>
          ))}
        </dl>
      </section>
    </div>
  );
}
