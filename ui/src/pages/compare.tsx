import { Fragment, useMemo, useState } from 'react';
import { getExperiment, getRun } from '../api/mlflow';
import { runName, type Run } from '../api/types';
import type { ChartRun } from '../charts/metric-chart';
import { colorAt } from '../charts/palette';
import { settingsFromQuery, settingsToQuery } from '../charts/settings';
import { PageHeader } from '../components/shell';
import { Empty, ErrorBox, Loading, StatusBadge } from '../components/states';
import { fmtDuration, fmtNumber, fmtTime } from '../format';
import { useAsync } from '../hooks';
import { href, setQuery } from '../router';
import { ParallelCoords } from './compare/parallel';
import { Scatter } from './compare/scatter';
import { columnsOf, differs, metricOf, paramOf, type Column } from './compare/values';
import { ChartsGrid } from './run/charts-tab';
import '../styles/run.css';

// Compare runs: `/#/compare?runs=<id>,<id>,...` (the runs table links here with its selection).
// Runs side by side with differing params highlighted (or only those shown), their metric charts
// overlaid, and parallel coordinates and a scatter of params against metrics.

export const MAX_COMPARE = 100;

export function ComparePage({ query }: { query: URLSearchParams }) {
  const ids = useMemo(() => [...new Set((query.get('runs') ?? '').split(',').map((s) => s.trim()).filter(Boolean))].slice(0, MAX_COMPARE), [query]);
  const runs = useAsync(() => Promise.all(ids.map(getRun)), [ids.join(',')]);
  const expIds = [...new Set(runs.data?.map((r) => r.info.experiment_id) ?? [])];
  const exps = useAsync(() => Promise.all(expIds.map((id) => getExperiment(id).catch(() => undefined))), [expIds.join(',')]);
  if (!ids.length) {
    return (
      <div className="page">
        <PageHeader crumbs={[{ label: 'Experiments', href: href('/experiments') }]} title="Compare runs" />
        <Empty title="No runs to compare">Select runs in an experiment's runs table and choose Compare.</Empty>
      </div>
    );
  }
  if (runs.error) return <div className="page"><ErrorBox error={runs.error} onRetry={runs.reload} /></div>;
  if (!runs.data) return <div className="page"><Loading /></div>;
  const expName = (id: string) => exps.data?.find((e) => e?.experiment_id === id)?.name ?? id;
  return <CompareBody runs={runs.data} query={query} expName={expName} />;
}

function CompareBody({ runs, query, expName }: { runs: Run[]; query: URLSearchParams; expName: (id: string) => string }) {
  const colors = runs.map((_, i) => colorAt(i));
  const { params, metrics } = useMemo(() => columnsOf(runs), [runs]);
  const onlyDiff = query.get('diff') === '1';
  const settings = settingsFromQuery(query);
  const update = (k: string, v: string | undefined) => {
    const q = new URLSearchParams(query);
    if (v === undefined) q.delete(k);
    else q.set(k, v);
    setQuery(q);
  };
  const remove = (id: string) => update('runs', runs.map((r) => r.info.run_id).filter((x) => x !== id).join(','));
  const diffParams = params.filter((k) => differs(runs.map((r) => paramOf(r, k))));
  const shownParams = onlyDiff ? diffParams : params;
  const userMetrics = metrics.filter((k) => !k.startsWith('system/'));
  const shownMetrics = onlyDiff ? userMetrics.filter((k) => differs(runs.map((r) => metricOf(r, k)))) : userMetrics;

  // Parallel coordinates and scatter: default to the differing params and the first metrics.
  const allCols: Column[] = [...params.map((k) => ({ id: `p:${k}`, kind: 'param' as const, key: k })), ...userMetrics.map((k) => ({ id: `m:${k}`, kind: 'metric' as const, key: k }))];
  const byId = (id: string) => allCols.find((c) => c.id === id);
  const pcIds = query.get('pc')?.split(',').filter((id) => byId(id)) ?? [...diffParams.slice(0, 5).map((k) => `p:${k}`), ...userMetrics.slice(0, 2).map((k) => `m:${k}`)];
  const pcCols = pcIds.map(byId).filter((c): c is Column => !!c);
  const sx = byId(query.get('sx') ?? '') ?? byId(`p:${diffParams[0] ?? params[0]}`);
  const sy = byId(query.get('sy') ?? '') ?? byId(`m:${userMetrics[0]}`);

  const chartRuns: ChartRun[] = runs.map((r, i) => ({ id: r.info.run_id, name: runName(r), color: colors[i], startTime: Number(r.info.start_time) || 0, running: r.info.status === 'RUNNING' }));
  const cellClass = (vals: (string | number | undefined)[]) => (differs(vals) ? 'diff' : undefined);

  return (
    <div className="page compare-page" data-testid="compare-page">
      <PageHeader crumbs={[{ label: 'Experiments', href: href('/experiments') }]} title={`Compare ${runs.length} runs`} />
      <div className="compare-runs">
        {runs.map((r, i) => (
          <span key={r.info.run_id} className="run-chip" data-testid="compare-run">
            <span className="swatch" style={{ background: colors[i] }} />
            <a href={href(`/experiments/${r.info.experiment_id}/runs/${r.info.run_id}`)}>{runName(r)}</a>
            <button aria-label={`Remove ${runName(r)} from the comparison`} onClick={() => remove(r.info.run_id)}>×</button>
          </span>
        ))}
      </div>

      <section className="card compare-table-card">
        <div className="toolbar">
          <div className="card-title">Runs side by side</div>
          <div className="grow" />
          <span className="muted">{diffParams.length} of {params.length} params differ</span>
          <label className="check">
            <input type="checkbox" checked={onlyDiff} onChange={(e) => update('diff', e.target.checked ? '1' : undefined)} /> Only differences
          </label>
        </div>
        <div className="table-wrap compare-wrap">
          <table className="table compare-table" data-testid="compare-table">
            <thead>
              <tr>
                <th className="sticky-col">Run</th>
                {runs.map((r, i) => (
                  <th key={r.info.run_id}>
                    <span className="swatch" style={{ background: colors[i] }} /> {runName(r)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              <Group label="Attributes" span={runs.length} />
              <Row onlyDiff={onlyDiff} label="Experiment" values={runs.map((r) => expName(r.info.experiment_id))} />
              <tr hidden={onlyDiff && !differs(runs.map((r) => r.info.status))}>
                <th className="sticky-col">Status</th>
                {runs.map((r) => <td key={r.info.run_id}><StatusBadge status={r.info.status} /></td>)}
              </tr>
              <Row onlyDiff={onlyDiff} label="Started" values={runs.map((r) => fmtTime(r.info.start_time))} plain />
              <Row onlyDiff={onlyDiff} label="Duration" values={runs.map((r) => fmtDuration(r.info.start_time, r.info.end_time, r.info.status === 'RUNNING'))} plain />
              <Row onlyDiff={onlyDiff} label="User" values={runs.map((r) => r.info.user_id ?? '')} />
              <Group label={`Parameters (${shownParams.length})`} span={runs.length} />
              {shownParams.map((k) => {
                const vals = runs.map((r) => paramOf(r, k));
                return (
                  <tr key={`p${k}`} data-testid="param-diff-row" data-key={k} className={cellClass(vals)}>
                    <th className="sticky-col mono" title={k}>{k}</th>
                    {vals.map((v, i) => <td key={i} className="mono">{v ?? <span className="muted">—</span>}</td>)}
                  </tr>
                );
              })}
              <Group label={`Metrics, latest (${shownMetrics.length})`} span={runs.length} />
              {shownMetrics.map((k) => {
                const vals = runs.map((r) => metricOf(r, k));
                const nums = vals.filter((v): v is number => v !== undefined);
                const best = nums.length > 1 ? (/loss|err|mse|mae|rmse/i.test(k) ? Math.min(...nums) : Math.max(...nums)) : undefined;
                return (
                  <tr key={`m${k}`} data-testid="metric-diff-row" data-key={k} className={cellClass(vals)}>
                    <th className="sticky-col mono" title={k}>{k}</th>
                    {vals.map((v, i) => (
                      <td key={i} className={`mono num${v !== undefined && v === best ? ' best' : ''}`}>{v === undefined ? <span className="muted">—</span> : fmtNumber(v)}</td>
                    ))}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </section>

      {allCols.length >= 2 && (
        <div className="compare-plots">
          <section className="card">
            <div className="toolbar">
              <div className="card-title">Parallel coordinates</div>
              <div className="grow" />
              <ColumnPicker label="Axes" columns={allCols} selected={pcCols.map((c) => c.id)} onChange={(ids) => update('pc', ids.join(','))} />
            </div>
            <ParallelCoords runs={runs} colors={colors} columns={pcCols} />
          </section>
          <section className="card">
            <div className="toolbar">
              <div className="card-title">Scatter</div>
              <div className="grow" />
              <ColumnSelect label="X" columns={allCols} value={sx?.id} onChange={(id) => update('sx', id)} />
              <ColumnSelect label="Y" columns={allCols} value={sy?.id} onChange={(id) => update('sy', id)} />
            </div>
            <Scatter runs={runs} colors={colors} x={sx} y={sy} />
          </section>
        </div>
      )}

      <section className="compare-charts">
        <ChartsGrid keys={userMetrics} runs={chartRuns} settings={settings} onSettings={(s) => setQuery(settingsToQuery(s, query))} />
      </section>
    </div>
  );
}

function Group({ label, span }: { label: string; span: number }) {
  return (
    <tr className="group-row">
      <th className="sticky-col" colSpan={1}>{label}</th>
      <td colSpan={span} />
    </tr>
  );
}

function Row({ label, values, plain, onlyDiff }: { label: string; values: string[]; plain?: boolean; onlyDiff?: boolean }) {
  if (onlyDiff && !differs(values)) return null;
  return (
    <tr className={!plain && differs(values) ? 'diff' : undefined}>
      <th className="sticky-col">{label}</th>
      {values.map((v, i) => <td key={i}>{v || <span className="muted">—</span>}</td>)}
    </tr>
  );
}

function ColumnSelect({ label, columns, value, onChange }: { label: string; columns: Column[]; value?: string; onChange: (id: string) => void }) {
  return (
    <label className="check">
      <span className="field-label">{label}</span>
      <select className="input" aria-label={`Scatter ${label} axis`} value={value ?? ''} onChange={(e) => onChange(e.target.value)}>
        <ColumnOptions columns={columns} />
      </select>
    </label>
  );
}

function ColumnOptions({ columns }: { columns: Column[] }) {
  return (
    <>
      {(['param', 'metric'] as const).map((kind) => (
        <optgroup key={kind} label={kind === 'param' ? 'Params' : 'Metrics'}>
          {columns.filter((c) => c.kind === kind).map((c) => <option key={c.id} value={c.id}>{c.key}</option>)}
        </optgroup>
      ))}
    </>
  );
}

function ColumnPicker({ label, columns, selected, onChange }: { label: string; columns: Column[]; selected: string[]; onChange: (ids: string[]) => void }) {
  const [open, setOpen] = useState(false);
  return (
    <div className="picker">
      <button className="btn btn-sm" onClick={() => setOpen(!open)} aria-expanded={open}>
        {label}: {selected.length} ▾
      </button>
      {open && (
        <div className="popover picker-pop" role="listbox" aria-label="Parallel coordinates axes">
          {(['param', 'metric'] as const).map((kind) => (
            <Fragment key={kind}>
              <div className="field-label">{kind === 'param' ? 'Params' : 'Metrics'}</div>
              {columns.filter((c) => c.kind === kind).map((c) => (
                <label key={c.id} className="check picker-item">
                  <input
                    type="checkbox"
                    checked={selected.includes(c.id)}
                    onChange={(e) => onChange(e.target.checked ? [...selected, c.id] : selected.filter((x) => x !== c.id))}
                  />
                  <span className="mono">{c.key}</span>
                </label>
              ))}
            </Fragment>
          ))}
        </div>
      )}
    </div>
  );
}
