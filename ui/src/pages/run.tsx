import { getExperiment, getRun } from '../api/mlflow';
import { runName } from '../api/types';
import { PageHeader } from '../components/shell';
import { ErrorBox, Loading, StatusBadge } from '../components/states';
import { fmtDuration, fmtNumber, fmtTime } from '../format';
import { useAsync } from '../hooks';
import { href } from '../router';

// Minimal run page (name, status, params, latest metrics) so links printed by the clients land on
// the run; the full run page (charts, artifacts, media, console) replaces this file.
export function RunPage({ experimentId, runId }: { experimentId: string; runId: string }) {
  const run = useAsync(() => getRun(runId), [runId]);
  const exp = useAsync(() => getExperiment(experimentId), [experimentId]);
  if (run.error) return <div className="page"><ErrorBox error={run.error} onRetry={run.reload} /></div>;
  if (!run.data) return <div className="page"><Loading /></div>;
  const r = run.data;
  const params = [...(r.data.params ?? [])].sort((a, b) => a.key.localeCompare(b.key));
  const metrics = [...(r.data.metrics ?? [])].sort((a, b) => a.key.localeCompare(b.key));
  return (
    <div className="page" data-testid="run-page">
      <PageHeader
        crumbs={[{ label: 'Experiments', href: href('/experiments') }, { label: exp.data?.name ?? experimentId, href: href(`/experiments/${experimentId}`) }]}
        title={<span data-testid="run-name">{runName(r)}</span>}
        actions={<StatusBadge status={r.info.status} />}
      />
      <div className="grid-2">
        <section className="card">
          <div className="card-title">Overview</div>
          <dl className="kv">
            <dt>Run ID</dt><dd className="mono">{r.info.run_id}</dd>
            <dt>Status</dt><dd>{r.info.status}</dd>
            <dt>Started</dt><dd>{fmtTime(r.info.start_time)}</dd>
            <dt>Duration</dt><dd>{fmtDuration(r.info.start_time, r.info.end_time, r.info.status === 'RUNNING')}</dd>
            <dt>User</dt><dd>{r.info.user_id || '—'}</dd>
          </dl>
        </section>
        <section className="card">
          <div className="card-title">Metrics (latest)</div>
          {metrics.length ? (
            <dl className="kv" data-testid="run-metrics">
              {metrics.map((m) => [<dt key={`k${m.key}`}>{m.key}</dt>, <dd key={`v${m.key}`} className="mono">{fmtNumber(m.value)}</dd>])}
            </dl>
          ) : <span className="muted">No metrics logged.</span>}
        </section>
        <section className="card">
          <div className="card-title">Parameters</div>
          {params.length ? (
            <dl className="kv" data-testid="run-params">
              {params.map((p) => [<dt key={`k${p.key}`}>{p.key}</dt>, <dd key={`v${p.key}`} className="mono">{p.value}</dd>])}
            </dl>
          ) : <span className="muted">No parameters logged.</span>}
        </section>
      </div>
    </div>
  );
}
