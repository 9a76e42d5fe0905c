import { useMemo, useState } from 'react';
import { createExperiment, deleteExperiment, renameExperiment, restoreExperiment, searchExperiments } from '../api/mlflow';
import type { Experiment } from '../api/types';
import { FormDialog } from '../components/modal';
import { rowKeys } from '../components/row-keys';
import { PageHeader } from '../components/shell';
import { Empty, ErrorBox, Loading } from '../components/states';
import { fmtAgo, fmtTime } from '../format';
import { useAsync } from '../hooks';
import { href, navigate, setQuery, useLocation } from '../router';
import { invalidateExperimentStats, useExperimentStats } from './experiment-stats';

type SortKey = 'name' | 'id' | 'runs' | 'activity' | 'created';

export function ExperimentsPage() {
  const { query } = useLocation();
  const view = query.get('view') === 'deleted' ? 'deleted' : 'active';
  const search = query.get('q') ?? '';
  const sort = (query.get('sort') as SortKey) || 'activity';
  const desc = query.get('dir') !== 'asc';
  const list = useAsync(() => searchExperiments(view === 'deleted' ? 'DELETED_ONLY' : 'ACTIVE_ONLY'), [view]);
  const [dialog, setDialog] = useState<{ kind: 'create' } | { kind: 'rename' | 'delete' | 'restore'; exp: Experiment }>();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  // Counts are cached while the page is open, and fetched afresh each time it is opened.
  useState(() => invalidateExperimentStats());

  const update = (patch: Record<string, string | undefined>) => {
    const q = new URLSearchParams(query);
    for (const [k, v] of Object.entries(patch)) v ? q.set(k, v) : q.delete(k);
    setQuery(q);
  };
  const filtered = useMemo(() => {
    const s = search.trim().toLowerCase();
    return (list.data ?? []).filter((e) => !s || e.name.toLowerCase().includes(s) || e.experiment_id === s);
  }, [list.data, search]);
  const stats = useExperimentStats(filtered.slice(0, 300).map((e) => e.experiment_id), view === 'deleted' ? 'ALL' : 'ACTIVE_ONLY');
  const rows = useMemo(() => {
    const key = (e: Experiment): string | number => {
      const st = stats[e.experiment_id];
      switch (sort) {
        case 'name': return e.name.toLowerCase();
        case 'id': return Number(e.experiment_id);
        case 'runs': return st?.count ?? -1;
        case 'created': return Number(e.creation_time ?? 0);
        default: return Math.max(st?.lastRun ?? 0, Number(e.last_update_time ?? 0));
      }
    };
    return [...filtered].sort((a, b) => {
      const x = key(a), y = key(b);
      const c = x < y ? -1 : x > y ? 1 : 0;
      return desc ? -c : c;
    });
  }, [filtered, sort, desc, stats]);

  const header = (label: string, k: SortKey, cls?: string) => (
    <th className={cls} aria-sort={sort === k ? (desc ? 'descending' : 'ascending') : 'none'}>
      <button className="sort" onClick={() => update({ sort: k, dir: sort === k && desc ? 'asc' : undefined })}>
        {label} {sort === k ? (desc ? '↓' : '↑') : ''}
      </button>
    </th>
  );
  const toggle = (id: string) => {
    const s = new Set(selected);
    s.has(id) ? s.delete(id) : s.add(id);
    setSelected(s);
  };

  return (
    <div className="page">
      <PageHeader
        title="Experiments"
        actions={
          <>
            {selected.size > 1 && (
              <a className="btn" href={href('/runs', { experiments: [...selected].join(',') })}>
                Runs of {selected.size} experiments
              </a>
            )}
            <button className="btn btn-primary" onClick={() => setDialog({ kind: 'create' })}>
              New experiment
            </button>
          </>
        }
      />
      <div className="toolbar">
        <input
          className="input grow"
          type="search"
          placeholder="Search experiments by name or id"
          aria-label="Search experiments"
          value={search}
          onChange={(e) => update({ q: e.target.value || undefined })}
        />
        <div className="seg" role="group" aria-label="Lifecycle">
          <button aria-pressed={view === 'active'} onClick={() => update({ view: undefined })}>Active</button>
          <button aria-pressed={view === 'deleted'} onClick={() => update({ view: 'deleted' })}>Deleted</button>
        </div>
      </div>
      {list.error ? (
        <ErrorBox error={list.error} onRetry={list.reload} />
      ) : !list.data ? (
        <Loading />
      ) : rows.length === 0 ? (
        search ? (
          <Empty title="No experiment matches">Nothing is named like “{search}”.</Empty>
        ) : view === 'deleted' ? (
          <Empty title="No deleted experiments">Deleted experiments can be restored from here.</Empty>
        ) : (
          <FirstRunHint />
        )
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="experiments-table">
            <thead>
              <tr>
                <th style={{ width: 32 }} />
                {header('Name', 'name')}
                {header('ID', 'id')}
                {header('Runs', 'runs', 'num')}
                {header('Last activity', 'activity')}
                {header('Created', 'created')}
                <th />
              </tr>
            </thead>
            <tbody onKeyDown={rowKeys}>
              {rows.map((e) => {
                const st = stats[e.experiment_id];
                const activity = Math.max(st?.lastRun ?? 0, Number(e.last_update_time ?? 0));
                return (
                  <tr key={e.experiment_id} data-testid="experiment-row" data-name={e.name}>
                    <td>
                      <input type="checkbox" aria-label={`Select ${e.name}`} checked={selected.has(e.experiment_id)} onChange={() => toggle(e.experiment_id)} />
                    </td>
                    <td>
                      <a href={href(`/experiments/${e.experiment_id}`)}>{e.name}</a>
                    </td>
                    <td className="muted mono">{e.experiment_id}</td>
                    <td className="num" data-testid="run-count">{st ? (st.count === undefined ? '—' : `${st.count.toLocaleString('en-US')}${st.countCapped ? '+' : ''}`) : <span className="muted">…</span>}</td>
                    <td title={fmtTime(activity)}>{fmtAgo(activity)}</td>
                    <td className="muted">{fmtTime(e.creation_time)}</td>
                    <td>
                      <div className="row-actions">
                        {view === 'active' ? (
                          <>
                            <button className="btn btn-sm" onClick={() => setDialog({ kind: 'rename', exp: e })}>Rename</button>
                            <button className="btn btn-sm" onClick={() => setDialog({ kind: 'delete', exp: e })}>Delete</button>
                          </>
                        ) : (
                          <button className="btn btn-sm" onClick={() => setDialog({ kind: 'restore', exp: e })}>
                            Restore
                          </button>
                        )}
                      </div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {view === 'active' && rows.length > 0 && rows.every((e) => stats[e.experiment_id]?.count === 0) && <FirstRunHint hasExperiments />}
      {dialog?.kind === 'create' && (
        <FormDialog
          title="New experiment"
          submitLabel="Create"
          fields={[{ name: 'name', label: 'Name', placeholder: 'e.g. mnist-baselines' }]}
          onClose={() => setDialog(undefined)}
          onSubmit={async (v) => {
            const r = await createExperiment(v.name);
            navigate(`/experiments/${r.experiment_id}`);
          }}
        />
      )}
      {dialog?.kind === 'rename' && (
        <FormDialog
          title={`Rename “${dialog.exp.name}”`}
          submitLabel="Rename"
          fields={[{ name: 'name', label: 'New name', initial: dialog.exp.name }]}
          onClose={() => setDialog(undefined)}
          onSubmit={async (v) => {
            await renameExperiment(dialog.exp.experiment_id, v.name);
            list.reload();
          }}
        />
      )}
      {dialog?.kind === 'delete' && (
        <FormDialog
          title={`Delete “${dialog.exp.name}”?`}
          submitLabel="Delete"
          danger
          fields={[]}
          onClose={() => setDialog(undefined)}
          onSubmit={async () => {
            await deleteExperiment(dialog.exp.experiment_id);
            list.reload();
          }}
        >
          <p className="muted">The experiment and its runs move to “Deleted”, from where they can be restored.</p>
        </FormDialog>
      )}
      {dialog?.kind === 'restore' && (
        <FormDialog
          title={`Restore “${dialog.exp.name}”?`}
          submitLabel="Restore"
          fields={[]}
          onClose={() => setDialog(undefined)}
          onSubmit={async () => {
            await restoreExperiment(dialog.exp.experiment_id);
            list.reload();
          }}
        >
          <p className="muted">The experiment and its runs become active again.</p>
        </FormDialog>
      )}
    </div>
  );
}

function FirstRunHint({ hasExperiments = false }: { hasExperiments?: boolean }) {
  const origin = window.location.origin;
  return (
    <Empty title={hasExperiments ? 'No runs yet' : 'No experiments yet'}>
      <p>Log a run with either client and it shows up here.</p>
      <pre>{`# MLflow
export MLFLOW_TRACKING_URI=${origin}
python -c "import mlflow; mlflow.set_experiment('hello')
with mlflow.start_run(): mlflow.log_metric('loss', 0.5)"

# W&B
export WANDB_BASE_URL=${origin}
export WANDB_API_KEY=$(node bin/cairn.js keys create --user you)
python -c "import wandb
r = wandb.init(project='hello')
r.log({'loss': 0.5}); r.finish()"`}</pre>
    </Empty>
  );
}
