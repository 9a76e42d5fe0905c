import { useEffect, useMemo, useRef, useState } from 'react';
import { getExperiment, getRun } from '../api/mlflow';
import { moveRun } from '../api/ui';
import { runName, tagValue } from '../api/types';
import type { ChartRun } from '../charts/metric-chart';
import { colorAt } from '../charts/palette';
import { settingsFromQuery, settingsToQuery } from '../charts/settings';
import { PageHeader } from '../components/shell';
import { ErrorBox, Loading, StatusBadge } from '../components/states';
import { fmtDuration, fmtTime } from '../format';
import { useAsync } from '../hooks';
import { href, navigate, setQuery } from '../router';
import { MoveRunsDialog } from './move-runs';
import { ArtifactsTab } from './run/artifacts';
import { RunTraces } from './traces/run-traces';
import '../styles/traces.css';
import { ChartsGrid } from './run/charts-tab';
import { ConsoleOutput } from './run/console';
import { primeFirstScreen } from './run/first-screen';
import { MediaTab } from './run/media';
import { OverviewTab } from './run/overview';
import '../styles/run.css';

// The run page: a header with the facts that matter at a glance, then tabs (kept in the URL):
// overview (details, notes, tags, lineage, params tree), charts, system metrics, media, console
// output and artifacts. A running run is re-read every few seconds; its charts and console poll.

const TABS = [
  { id: 'overview', label: 'Overview' },
  { id: 'charts', label: 'Charts' },
  { id: 'system', label: 'System' },
  { id: 'media', label: 'Media' },
  { id: 'logs', label: 'Logs' },
  { id: 'artifacts', label: 'Artifacts' },
  { id: 'traces', label: 'Traces' },
] as const;

const RELOAD_MS = 10_000;

export function RunPage({ experimentId, runId, query = new URLSearchParams() }: { experimentId: string; runId: string; query?: URLSearchParams }) {
  // The first answer for a run sends its first screen's chart series before the page renders
  // (./run/first-screen.ts); re-reads of a running run do not.
  const primedFor = useRef<string>(undefined);
  const run = useAsync(
    () =>
      getRun(runId).then((r) => {
        if (primedFor.current !== runId) {
          primedFor.current = runId;
          primeFirstScreen(r, query);
        }
        return r;
      }),
    [runId],
  );
  const exp = useAsync(() => getExperiment(experimentId), [experimentId]);
  const [moving, setMoving] = useState(false);
  const running = run.data?.info.status === 'RUNNING';
  useEffect(() => {
    if (!running) return;
    const t = setInterval(run.reload, RELOAD_MS);
    return () => clearInterval(t);
  }, [running, run.reload]);

  const settings = settingsFromQuery(query);
  const keys = useMemo(() => (run.data?.data.metrics ?? []).map((m) => m.key), [run.data]);
  const metricKeys = keys.filter((k) => !k.startsWith('system/'));
  const systemKeys = keys.filter((k) => k.startsWith('system/'));
  const chartRuns: ChartRun[] = useMemo(
    () =>
      run.data
        ? [{ id: run.data.info.run_id, name: runName(run.data), color: colorAt(0), startTime: Number(run.data.info.start_time) || 0, running: run.data.info.status === 'RUNNING' }]
        : [],
    [run.data],
  );

  if (run.error) return <div className="page"><ErrorBox error={run.error} onRetry={run.reload} /></div>;
  if (!run.data) return <div className="page"><Loading /></div>;
  const r = run.data;
  const tab = query.get('tab') ?? (metricKeys.length ? 'charts' : 'overview');
  const tabHref = (id: string) => {
    const q = new URLSearchParams(query);
    q.set('tab', id);
    return href(`/experiments/${experimentId}/runs/${runId}`, q);
  };
  const commit = tagValue(r.data.tags, 'mlflow.source.git.commit');
  const source = tagValue(r.data.tags, 'mlflow.source.name');
  const counts: Record<string, number | undefined> = { charts: metricKeys.length, system: systemKeys.length };

  return (
    <div className="page run-page" data-testid="run-page">
      <PageHeader
        crumbs={[{ label: 'Experiments', href: href('/experiments') }, { label: exp.data?.name ?? experimentId, href: href(`/experiments/${experimentId}`) }]}
        title={
          <span className="run-title">
            <span data-testid="run-name">{runName(r)}</span> <StatusBadge status={r.info.status} />
          </span>
        }
        actions={
          <>
            <a className="btn" href={href('/compare', { runs: runId })} title="Open in compare, then add runs from the runs table">
              Compare…
            </a>
            {r.info.lifecycle_stage !== 'deleted' && (
              <button className="btn" onClick={() => setMoving(true)} title="Move this run to another experiment (W&B project)">
                Move to project…
              </button>
            )}
          </>
        }
      />
      {moving && (
        <MoveRunsDialog
          count={1}
          fromIds={[r.info.experiment_id]}
          onClose={() => setMoving(false)}
          onMove={async (dest) => {
            await moveRun(runId, dest);
            run.reload();
            navigate(`/experiments/${dest}/runs/${runId}`);
          }}
        />
      )}
      <div className="facts" data-testid="run-facts">
        <span><span className="fact-label">Started</span> {fmtTime(r.info.start_time)}</span>
        <span><span className="fact-label">Duration</span> {fmtDuration(r.info.start_time, r.info.end_time, running)}</span>
        <span><span className="fact-label">User</span> {r.info.user_id || tagValue(r.data.tags, 'mlflow.user') || '—'}</span>
        {source && <span className="fact-src" title={source}><span className="fact-label">Source</span> <span className="mono">{source.split('/').pop()}</span></span>}
        {commit && <span><span className="fact-label">Commit</span> <span className="mono">{commit.slice(0, 8)}</span></span>}
        <span className="mono fact-id" title="Run ID">{r.info.run_id}</span>
      </div>
      <nav className="tabs" aria-label="Run sections">
        {TABS.map((t) => (
          <a key={t.id} href={tabHref(t.id)} className={tab === t.id ? 'active' : undefined} aria-current={tab === t.id ? 'page' : undefined}>
            {t.label}
            {counts[t.id] ? <span className="tab-count">{counts[t.id]}</span> : null}
          </a>
        ))}
      </nav>
      <div className="tab-body">
        {tab === 'overview' && <OverviewTab run={r} experimentName={exp.data?.name} onChanged={run.reload} />}
        {tab === 'charts' && (
          <ChartsGrid
            keys={metricKeys}
            runs={chartRuns}
            settings={settings}
            onSettings={(s) => setQuery(settingsToQuery(s, query))}
            emptyHint={<>Log metrics with <code>mlflow.log_metric("loss", 0.3, step=1)</code> or <code>wandb.log({'{'}"loss": 0.3{'}'})</code>.</>}
          />
        )}
        {tab === 'system' && (
          <ChartsGrid
            keys={systemKeys}
            runs={chartRuns}
            settings={settings}
            system
            onSettings={(s) => setQuery(settingsToQuery(s, query))}
            emptyHint={<>W&B records CPU, memory and GPU use by itself; MLflow does with <code>mlflow.enable_system_metrics_logging()</code>.</>}
          />
        )}
        {tab === 'media' && <MediaTab runId={runId} />}
        {tab === 'logs' && <ConsoleOutput runId={runId} running={running} />}
        {tab === 'artifacts' && <ArtifactsTab runId={runId} artifactUri={r.info.artifact_uri} />}
        {tab === 'traces' && <RunTraces experimentId={experimentId} runId={runId} />}
      </div>
    </div>
  );
}
