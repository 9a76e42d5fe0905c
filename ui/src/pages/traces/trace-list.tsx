import { useEffect, useState } from 'react';
import { durationMs, experimentOf, fmtMs, searchTraces, type Assessment, type TraceInfo } from '../../api/traces';
import { Empty, ErrorBox, Loading, StatusBadge } from '../../components/states';
import { fmtTime } from '../../format';
import { useAsync } from '../../hooks';
import { href, navigate, setQuery, useLocation } from '../../router';
import { DeleteTracesDialog } from './delete-traces';
import { filterOf, narrowed, quoted } from './trace-filter';
import { tokenUsage, TRACE_TOKEN_USAGE } from './llm';

// A searchable, paged list of an experiment's traces: the box takes MLflow's search_traces grammar,
// sent as typed (the server answers a bad one with its own message), or words to find in the
// traces' spans (trace-filter.ts). View state lives in the URL (`tfilter`, `tstate`, `tspan`,
// `tsort`), so a copied link reproduces the list; pages follow page tokens.

const STATES = ['OK', 'ERROR', 'IN_PROGRESS'];
// MLflow's SpanType values: "has a span of this type" narrows to the traces that called a tool, a retriever...
const SPAN_TYPES = ['AGENT', 'CHAIN', 'CHAT_MODEL', 'EMBEDDING', 'LLM', 'PARSER', 'RERANKER', 'RETRIEVER', 'TOOL'];
const SORTS: Record<string, string> = {
  newest: 'timestamp_ms DESC',
  oldest: 'timestamp_ms ASC',
  slowest: 'execution_time DESC',
  fastest: 'execution_time ASC',
  name: 'name ASC',
};

// The metadata keys the client writes a trace's end user and conversation under (update_current_trace).
const USER = 'mlflow.trace.user';
const SESSION = 'mlflow.trace.session';

const userTags = (t: TraceInfo) => Object.entries(t.tags ?? {}).filter(([k]) => !k.startsWith('mlflow.'));

/** A feedback's value in a chip: ✓/✗ for booleans, the value (shortened) otherwise. */
function feedbackText(a: Assessment): string {
  if (a.feedback?.error) return 'error';
  const v = a.feedback?.value;
  if (v === true) return '✓';
  if (v === false) return '✗';
  const text = typeof v === 'string' ? v : JSON.stringify(v ?? null);
  return text.length > 16 ? `${text.slice(0, 15)}…` : text;
}

/**
 * The filter clause for a feedback's value (the server compares `=` with the value's JSON text, a
 * string also unquoted): for a string or a boolean. A number's JSON text depends on how the client
 * wrote it (5 or 5.0), and a list's or an object's on its spacing, so those get none. The grammar
 * keeps backslashes as written, so a value ending in one cannot be quoted at all: no clause either.
 */
function feedbackClause(a: Assessment): string | undefined {
  const v = a.feedback?.value;
  const name = a.assessment_name;
  if (a.feedback?.error || !name || /[`\\]/.test(name)) return undefined;
  if (typeof v === 'boolean') return `feedback.\`${name}\` = '${v}'`;
  return typeof v === 'string' && !v.includes('\\') ? `feedback.\`${name}\` = ${quoted(v)}` : undefined;
}

// The feedback still standing (an overridden one is not), as the list's quality column.
const standingFeedback = (t: TraceInfo) => (t.assessments ?? []).filter((a) => a.feedback && a.valid !== false);

export function TraceList(props: {
  experimentId: string;
  baseFilter?: string;
  emptyHint?: React.ReactNode;
  /** Called when the list is fetched again (Refresh) or traces were deleted: what sums them may refresh too. */
  onChanged?: () => void;
}) {
  const { experimentId, baseFilter, emptyHint, onChanged } = props;
  const { query } = useLocation();
  const filter = query.get('tfilter') ?? '';
  const state = query.get('tstate') ?? '';
  const spanType = SPAN_TYPES.includes(query.get('tspan') ?? '') ? query.get('tspan')! : '';
  const sort = SORTS[query.get('tsort') ?? ''] ? query.get('tsort')! : 'newest';
  const [draft, setDraft] = useState(filter);
  const [tokens, setTokens] = useState<(string | undefined)[]>([undefined]);
  const full = [baseFilter, filterOf(filter), state && `trace.status = '${state}'`, spanType && `span.type = '${spanType}'`].filter(Boolean).join(' AND ');
  useEffect(() => setDraft(filter), [filter]);
  useEffect(() => setTokens([undefined]), [full, sort, experimentId]);
  // Traces ticked for deletion, by id (with their experiment: a run's list may hold linked traces of
  // another one). A new page, filter or order starts with none ticked.
  const [ticked, setTicked] = useState<ReadonlyMap<string, string>>(new Map());
  const [confirming, setConfirming] = useState(false);
  const page = tokens.length - 1;
  useEffect(() => setTicked(new Map()), [full, sort, experimentId, page]);
  const found = useAsync(
    () => searchTraces(experimentId, { filter: full, orderBy: [SORTS[sort]], pageToken: tokens[page] }),
    [experimentId, full, sort, tokens[page], page],
  );
  const update = (patch: Record<string, string | undefined>) => {
    const q = new URLSearchParams(query);
    for (const [k, v] of Object.entries(patch)) v ? q.set(k, v) : q.delete(k);
    setQuery(q);
  };
  const traces = found.data?.traces ?? [];
  const next = found.data?.next_page_token;
  // User and session columns appear when a trace on the page has them (chat apps); a value in them
  // narrows the list to that user's or conversation's traces.
  const shown = { user: traces.some((t) => t.trace_metadata?.[USER]), session: traces.some((t) => t.trace_metadata?.[SESSION]) };
  const narrow = (clause: string) => update({ tfilter: narrowed(filter, clause) });

  return (
    <div className="trace-list" data-testid="trace-list">
      <div className="toolbar">
        <form
          className="filter-box"
          onSubmit={(e) => {
            e.preventDefault();
            update({ tfilter: draft.trim() || undefined });
          }}
        >
          <input
            className="input mono"
            data-testid="trace-filter"
            aria-label="Trace filter"
            placeholder={`Search the spans' text, or filter: trace.status = 'ERROR' AND tags.env = 'prod'`}
            title="Words are looked for in every span's inputs, outputs and attributes (trace.text ILIKE); a filter in MLflow's search_traces grammar is sent as typed"
            value={draft}
            onChange={(e) => setDraft((e.target as HTMLInputElement).value)}
          />
        </form>
        <select className="input" aria-label="Trace state" value={state} onChange={(e) => update({ tstate: (e.target as HTMLSelectElement).value || undefined })}>
          <option value="">Any state</option>
          {STATES.map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
        <select className="input" aria-label="Span type" value={spanType} onChange={(e) => update({ tspan: (e.target as HTMLSelectElement).value || undefined })}>
          <option value="">Any span type</option>
          {SPAN_TYPES.map((t) => <option key={t} value={t}>With a {t} span</option>)}
        </select>
        <select className="input" aria-label="Sort traces" value={sort} onChange={(e) => update({ tsort: (e.target as HTMLSelectElement).value === 'newest' ? undefined : (e.target as HTMLSelectElement).value })}>
          {Object.keys(SORTS).map((s) => <option key={s} value={s}>Sort: {s}</option>)}
        </select>
        <button
          className="btn"
          onClick={() => {
            found.reload();
            onChanged?.();
          }}
          disabled={found.loading} title="Fetch this page again, with the traces logged since">
          Refresh
        </button>
        {ticked.size > 0 && (
          <button className="btn btn-danger" onClick={() => setConfirming(true)}>
            Delete {ticked.size} {ticked.size === 1 ? 'trace' : 'traces'}
          </button>
        )}
      </div>
      {confirming && (
        <DeleteTracesDialog
          title={`Delete ${ticked.size} ${ticked.size === 1 ? 'trace' : 'traces'}?`}
          traces={ticked}
          onClose={() => setConfirming(false)}
          onDeleted={() => {
            setTicked(new Map());
            found.reload();
            onChanged?.();
          }}
        />
      )}
      {found.error ? (
        <ErrorBox error={found.error} onRetry={found.reload} />
      ) : found.loading && !found.data ? (
        <Loading label="Loading traces…" />
      ) : traces.length === 0 ? (
        full ? <Empty title="No trace matches">Nothing matches <code>{full}</code>.</Empty> : <Empty title="No traces yet">{emptyHint}</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="traces-table">
            <thead>
              <tr>
                <th style={{ width: 32 }}>
                  <input
                    type="checkbox"
                    aria-label="Select every trace on this page"
                    checked={traces.length > 0 && traces.every((t) => ticked.has(t.trace_id))}
                    onChange={(e) => setTicked(e.target.checked ? new Map(traces.map((t) => [t.trace_id, experimentOf(t, experimentId)])) : new Map())}
                  />
                </th>
                <th>Trace</th>
                <th>Name</th>
                <th>Status</th>
                <th>Request time</th>
                <th className="num">Execution time</th>
                <th>Request</th>
                <th>Response</th>
                <th className="num">Tokens</th>
                <th>Feedback</th>
                {shown.user && <th>User</th>}
                {shown.session && <th>Session</th>}
                <th>Tags</th>
              </tr>
            </thead>
            <tbody>
              {traces.map((t) => (
                <TraceRow
                  key={t.trace_id}
                  t={t}
                  experimentId={experimentId}
                  shown={shown}
                  onNarrow={narrow}
                  ticked={ticked.has(t.trace_id)}
                  onTick={(on) => {
                    const next = new Map(ticked);
                    if (on) next.set(t.trace_id, experimentOf(t, experimentId));
                    else next.delete(t.trace_id);
                    setTicked(next);
                  }}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className="table-foot">
        <span data-testid="trace-page">Page {page + 1} · {traces.length} traces{next ? '' : ' (last page)'}</span>
        <span className="row-actions">
          <button className="btn btn-sm" disabled={page === 0} onClick={() => setTokens(tokens.slice(0, -1))}>← Previous</button>
          <button className="btn btn-sm" data-testid="trace-next" disabled={!next} onClick={() => setTokens([...tokens, next])}>Next →</button>
        </span>
      </div>
    </div>
  );
}

/** A trace in the list; the whole row opens it, unless the click was on a link, a control or selected text. */
function TraceRow(props: {
  t: TraceInfo;
  experimentId: string;
  shown: { user: boolean; session: boolean };
  onNarrow: (clause: string) => void;
  ticked: boolean;
  onTick: (on: boolean) => void;
}) {
  const { t, experimentId, shown, onNarrow, ticked, onTick } = props;
  const link = href(`/experiments/${experimentOf(t, experimentId)}/traces/${t.trace_id}`);
  const tokens = tokenUsage(t.trace_metadata?.[TRACE_TOKEN_USAGE]);
  return (
    <tr
      data-testid="trace-row"
      data-href={link}
      onClick={(e) => {
        if ((e.target as HTMLElement).closest('a, button, input') || window.getSelection()?.toString()) return;
        navigate(link);
      }}
    >
      <td>
        <input type="checkbox" aria-label={`Select ${t.trace_id}`} checked={ticked} onChange={(e) => onTick(e.target.checked)} />
      </td>
      <td className="mono">
        <a href={link}>{t.trace_id.slice(0, 15)}…</a>
      </td>
      <td data-testid="trace-name">{t.tags?.['mlflow.traceName'] ?? '—'}</td>
      <td><StatusBadge status={t.state} /></td>
      <td>{fmtTime(Date.parse(t.request_time))}</td>
      <td className="num">{fmtMs(durationMs(t.execution_duration))}</td>
      <td className="muted trace-preview" title={t.request_preview}>{t.request_preview?.slice(0, 80) ?? ''}</td>
      <td className="muted trace-preview" title={t.response_preview}>{t.response_preview?.slice(0, 80) ?? ''}</td>
      <td className="num token-count" data-testid="trace-tokens" title={tokens ? `${tokens.input ?? '?'} in, ${tokens.output ?? '?'} out` : undefined}>
        {tokens?.total?.toLocaleString() ?? ''}
      </td>
      <td>
        <span className="chips" data-testid="trace-feedback">
          {standingFeedback(t).slice(0, 3).map((a, i) => {
            const clause = feedbackClause(a);
            const title = `${a.assessment_name} = ${JSON.stringify(a.feedback?.value ?? null)}${a.rationale ? ` (${a.rationale})` : ''}`;
            const text = `${a.assessment_name}: ${feedbackText(a)}`;
            return clause ? (
              <button key={a.assessment_id ?? i} className="chip chip-button" title={`${title}: only the traces with this feedback`} onClick={() => onNarrow(clause)}>{text}</button>
            ) : (
              <span key={a.assessment_id ?? i} className="chip" title={title}>{text}</span>
            );
          })}
        </span>
      </td>
      {shown.user && <td>{narrowing(t, USER, onNarrow)}</td>}
      {shown.session && <td>{narrowing(t, SESSION, onNarrow)}</td>}
      <td>
        <span className="chips">
          {userTags(t).slice(0, 4).map(([k, v]) => <span key={k} className="chip" title={`${k} = ${v}`}>{k}: {v.slice(0, 24)}</span>)}
        </span>
      </td>
    </tr>
  );
}

/** A user or session value as a button that narrows the list to it. */
function narrowing(t: TraceInfo, key: string, onNarrow: (clause: string) => void) {
  const value = t.trace_metadata?.[key];
  if (!value) return null;
  return (
    <button className="linklike mono" data-testid={key === USER ? 'trace-user' : 'trace-session'} title={`Only the traces of ${value}`} onClick={() => onNarrow(`metadata.\`${key}\` = ${quoted(value)}`)}>
      {value.length > 24 ? `${value.slice(0, 23)}…` : value}
    </button>
  );
}
