import { useEffect, useMemo, useState } from 'react';
import { deleteRun, getExperiment, restoreRun, setRunTag, type ViewType } from '../api/mlflow';
import { FormDialog } from '../components/modal';
import { PageHeader } from '../components/shell';
import { Empty, ErrorBox, Loading } from '../components/states';
import { moveRun } from '../api/ui';
import { useAsync } from '../hooks';
import { ExperimentTabs } from './experiment-tabs';
import { MoveRunsDialog } from './move-runs';
import { href, setQuery, useLocation } from '../router';
import { useColumnKeys } from '../runs-table/column-keys';
import { ColumnPicker } from '../runs-table/column-picker';
import { columnFor, DEFAULT_COLUMNS, quoteKey, rangeKeys } from '../runs-table/columns';
import { useRunsData } from '../runs-table/data';
import { FilterBox } from '../runs-table/filter-box';
import { GROUP_PRESETS, groupClause, GroupsTable, parseGroup } from '../runs-table/groups';
import { RunsTable } from '../runs-table/table';
import { TagFilter, ValueFilter } from '../runs-table/tag-filter';

// The runs of one or several experiments. Everything that defines the view (filter, quick filters,
// lifecycle, sort, columns, grouping) lives in the URL's query, so a copied link reproduces it.

const STATES = ['RUNNING', 'FINISHED', 'FAILED', 'KILLED', 'SCHEDULED'];
const VIEWS: Record<string, ViewType> = { active: 'ACTIVE_ONLY', deleted: 'DELETED_ONLY', all: 'ALL' };
const sq = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export function RunsPage({ experimentIds }: { experimentIds: string[] }) {
  const { query } = useLocation();
  const exps = useAsync(() => Promise.all(experimentIds.map(getExperiment)), [experimentIds.join(',')]);
  const filter = query.get('filter') ?? '';
  const state = query.get('state') ?? '';
  const user = query.get('user') ?? '';
  const wgroup = query.get('wgroup') ?? '';
  const wjob = query.get('wjob') ?? '';
  const tagKey = query.get('tag') ?? '';
  const tagVal = query.get('tagv') ?? '';
  const view = query.get('view') && VIEWS[query.get('view')!] ? query.get('view')! : 'active';
  const sortRaw = query.get('sort') ?? 'attributes.start_time DESC';
  const sort = useMemo(() => {
    const m = sortRaw.match(/^(.*?)\s+(ASC|DESC)$/i);
    return m ? { key: m[1], desc: m[2].toUpperCase() === 'DESC' } : { key: sortRaw, desc: false };
  }, [sortRaw]);
  const rawCols = query.get('cols');
  const parsedCols = useMemo(() => {
    const raw = rawCols;
    if (!raw) return undefined;
    try {
      const parsed = JSON.parse(raw);
      return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === 'string') : undefined;
    } catch {
      return undefined;
    }
  }, [rawCols]);

  const fullFilter = [
    filter,
    state && `attributes.status = ${sq(state)}`,
    user && `attributes.user_id = ${sq(user)}`,
    wgroup && `tags.\`wandb.group\` = ${sq(wgroup)}`,
    wjob && `tags.\`wandb.job_type\` = ${sq(wjob)}`,
    tagKey && tagVal && `tags.${quoteKey(tagKey)} = ${sq(tagVal)}`,
  ].filter(Boolean).join(' and ');
  // Min/max columns are only ever chosen (never defaults), so the URL's columns say which ranges to fetch.
  const ranges = useMemo(() => rangeKeys((parsedCols ?? []).map(columnFor).filter((c) => !!c)), [parsedCols]);
  const runsQuery = useMemo(
    () => ({ experimentIds, filter: fullFilter, viewType: VIEWS[view], orderBy: [`${sort.key} ${sort.desc ? 'DESC' : 'ASC'}`], metricRanges: ranges }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [experimentIds.join(','), fullFilter, view, sort.key, sort.desc, ranges.join('\u0000')],
  );
  const data = useRunsData(runsQuery);
  const keys = useColumnKeys(
    experimentIds,
    VIEWS[view],
    () => data.loaded().slice(0, 1000),
    data.version,
  );
  // Until columns are chosen, the attributes and the first metrics and params, as the clients log them.
  const columnIds = useMemo(
    () => parsedCols ?? [...DEFAULT_COLUMNS, ...keys.metrics.slice(0, 8).map((k) => `metric:${k}`), ...keys.params.slice(0, 8).map((k) => `param:${k}`)],
    [parsedCols, keys.metrics, keys.params],
  );
  const multi = experimentIds.length > 1;
  const columns = useMemo(
    () => (multi && !columnIds.includes('attr:experiment_id') ? ['attr:experiment_id', ...columnIds] : columnIds).map(columnFor).filter((c) => !!c),
    [columnIds, multi],
  );
  const groupBy = parseGroup(query.get('group'));
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [active, setActive] = useState(-1);
  const [dialog, setDialog] = useState<'tag' | 'delete' | 'restore' | 'move'>();
  useEffect(() => setActive(-1), [runsQuery]);

  useEffect(() => {
    const slash = (e: KeyboardEvent) => {
      if (e.key === '/' && !(e.target instanceof HTMLInputElement) && !(e.target instanceof HTMLTextAreaElement)) {
        e.preventDefault();
        document.querySelector<HTMLInputElement>('[data-testid=filter-input]')?.focus();
      }
    };
    window.addEventListener('keydown', slash);
    return () => window.removeEventListener('keydown', slash);
  }, []);

  const update = (patch: Record<string, string | undefined>) => {
    const q = new URLSearchParams(query);
    for (const [k, v] of Object.entries(patch)) v ? q.set(k, v) : q.delete(k);
    setQuery(q);
  };
  const onSort = (key: string) => {
    // Metrics are usually read best-first from the top, so a new column sorts descending first.
    const next = sort.key === key ? (sort.desc ? `${key} ASC` : `${key} DESC`) : `${key} DESC`;
    update({ sort: next });
  };
  const names = useMemo(() => new Map((exps.data ?? []).map((e) => [e.experiment_id, e.name])), [exps.data]);
  const bulk = async (fn: (id: string) => Promise<unknown>) => {
    const ids = [...selected];
    const results = await Promise.allSettled(ids.map(fn));
    const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    data.reload();
    if (failed.length) throw new Error(`${failed.length} of ${ids.length} runs failed: ${(failed[0].reason as Error).message}`);
    setSelected(new Set());
  };

  if (exps.error) return <div className="page"><ErrorBox error={exps.error} onRetry={exps.reload} /></div>;
  if (!experimentIds.length) return <div className="page"><Empty title="No experiment chosen">Pick experiments on the <a href={href('/experiments')}>experiments page</a>.</Empty></div>;
  const title = exps.data ? exps.data.map((e) => e.name).join(', ') : '…';
  const expName = (exps.data?.[0]?.name ?? 'name').replace(/['"\\$`]/g, '');
  const compareHref = href('/compare-runs', { runs: JSON.stringify([...selected]), experiments: JSON.stringify(experimentIds) });

  return (
    <div className="page page-fill">
      <PageHeader
        crumbs={[{ label: 'Experiments', href: href('/experiments') }]}
        title={title}
        actions={
          exps.data?.length === 1 ? (
            <>
              <a className="btn btn-ghost" href={href(`/experiments/${exps.data[0].experiment_id}/activity`)}>
                Activity
              </a>
              <span className="muted mono">ID {exps.data[0].experiment_id}</span>
            </>
          ) : undefined
        }
      />
      {experimentIds.length === 1 && <ExperimentTabs experimentId={experimentIds[0]} active="runs" />}
      <div className="toolbar">
        <FilterBox value={filter} keys={keys} onApply={(f) => update({ filter: f || undefined })} />
        <select className="input" aria-label="State" value={state} onChange={(e) => update({ state: e.target.value || undefined })}>
          <option value="">Any state</option>
          {STATES.map((s) => <option key={s} value={s}>{s.toLowerCase()}</option>)}
        </select>
        <ValueFilter experimentIds={experimentIds} viewType={VIEWS[view]} by={{ kind: 'attribute', key: 'user_id' }} label="User" value={user} onChange={(v) => update({ user: v || undefined })} />
        {(keys.tags.includes('wandb.group') || wgroup) && (
          <ValueFilter experimentIds={experimentIds} viewType={VIEWS[view]} by={{ kind: 'tag', key: 'wandb.group' }} label="W&B group" value={wgroup} onChange={(v) => update({ wgroup: v || undefined })} />
        )}
        {(keys.tags.includes('wandb.job_type') || wjob) && (
          <ValueFilter experimentIds={experimentIds} viewType={VIEWS[view]} by={{ kind: 'tag', key: 'wandb.job_type' }} label="Job type" value={wjob} onChange={(v) => update({ wjob: v || undefined })} />
        )}
        <TagFilter experimentIds={experimentIds} viewType={VIEWS[view]} tags={keys.tags} tagKey={tagKey} value={tagVal} onChange={(k, v) => update({ tag: k || undefined, tagv: v || undefined })} />
        <div className="seg" role="group" aria-label="Lifecycle">
          {Object.keys(VIEWS).map((v) => (
            <button key={v} aria-pressed={view === v} onClick={() => update({ view: v === 'active' ? undefined : v })}>
              {v[0].toUpperCase() + v.slice(1)}
            </button>
          ))}
        </div>
        <select className="input" aria-label="Group by" value={query.get('group') ?? ''} onChange={(e) => update({ group: e.target.value || undefined })}>
          <option value="">No grouping</option>
          {GROUP_PRESETS.map((g) => <option key={g.id} value={g.id}>Group: {g.label}</option>)}
          {keys.params.slice(0, 500).map((k) => <option key={k} value={`param:${k}`}>Group: {k}</option>)}
        </select>
        <ColumnPicker keys={keys} columns={columnIds} onChange={(ids) => update({ cols: JSON.stringify(ids) })} />
      </div>
      {selected.size > 0 && (
        <div className="bulkbar" data-testid="bulk-bar">
          <strong>{selected.size} selected</strong>
          <a className="btn btn-sm btn-primary" href={compareHref}>Compare</a>
          <button className="btn btn-sm" onClick={() => setDialog('tag')}>Add tag</button>
          {view === 'active' && <button className="btn btn-sm" onClick={() => setDialog('move')}>Move…</button>}
          {view !== 'deleted' && <button className="btn btn-sm" onClick={() => setDialog('delete')}>Delete</button>}
          {view !== 'active' && <button className="btn btn-sm" onClick={() => setDialog('restore')}>Restore</button>}
          <button className="btn btn-sm btn-ghost" onClick={() => setSelected(new Set())}>Clear</button>
        </div>
      )}
      {groupBy && (
        <GroupsTable
          query={runsQuery}
          by={groupBy}
          metrics={columns.filter((c) => c.kind === 'metric').map((c) => c.key)}
          onPick={(v) => update({ filter: [filter, groupClause(groupBy, v)].filter(Boolean).join(' and '), group: undefined })}
        />
      )}
      {data.error ? (
        <ErrorBox error={data.error} onRetry={data.reload} />
      ) : data.loading ? (
        <Loading label="Loading runs…" />
      ) : data.rowCount === 0 ? (
        fullFilter ? (
          <Empty title="No run matches">Nothing matches <code>{fullFilter}</code>.</Empty>
        ) : (
          <Empty title="No runs yet">
            <p>Log one into this experiment (a W&B project of the same name is this experiment):</p>
            <pre>{`# MLflow
export MLFLOW_TRACKING_URI=${window.location.origin}
python -c "import mlflow; mlflow.set_experiment('${expName}')
with mlflow.start_run(): mlflow.log_metric('loss', 0.5)"

# W&B
export WANDB_BASE_URL=${window.location.origin}
export WANDB_API_KEY=$(node bin/cairn.js keys create --user you)
python -c "import wandb
r = wandb.init(project='${expName}')
r.log({'loss': 0.5}); r.finish()"`}</pre>
          </Empty>
        )
      ) : (
        <RunsTable
          data={data}
          columns={columns}
          sort={sort}
          onSort={onSort}
          selected={selected}
          onSelect={setSelected}
          active={active}
          onActive={setActive}
          experimentName={(id) => names.get(id) ?? id}
        />
      )}
      <div className="table-foot">
        <span data-testid="run-total">
          {data.total !== undefined ? `${data.total.toLocaleString('en-US')} runs` : data.rowCount ? `${data.rowCount.toLocaleString('en-US')}+ runs (loading as you scroll)` : ''}
        </span>
        <span>↑↓ move · space select · enter open · / filter</span>
      </div>
      {dialog === 'tag' && (
        <FormDialog
          title={`Tag ${selected.size} runs`}
          submitLabel="Set tag"
          fields={[{ name: 'key', label: 'Key' }, { name: 'value', label: 'Value' }]}
          onClose={() => setDialog(undefined)}
          onSubmit={(v) => bulk((id) => setRunTag(id, v.key, v.value))}
        />
      )}
      {dialog === 'move' && (
        <MoveRunsDialog count={selected.size} fromIds={multi ? [] : experimentIds} onClose={() => setDialog(undefined)} onMove={(dest) => bulk((id) => moveRun(id, dest))} />
      )}
      {(dialog === 'delete' || dialog === 'restore') && (
        <FormDialog
          title={`${dialog === 'delete' ? 'Delete' : 'Restore'} ${selected.size} runs?`}
          submitLabel={dialog === 'delete' ? 'Delete' : 'Restore'}
          danger={dialog === 'delete'}
          fields={[]}
          onClose={() => setDialog(undefined)}
          onSubmit={() => bulk(dialog === 'delete' ? deleteRun : restoreRun)}
        >
          {dialog === 'delete' && <p className="muted">Deleted runs stay restorable from the “Deleted” view.</p>}
        </FormDialog>
      )}
    </div>
  );
}
