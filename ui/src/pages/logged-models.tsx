import { useMemo } from 'react';
import { getLoggedModel, searchExperiments, searchLoggedModels } from '../api/mlflow';
import { PageHeader } from '../components/shell';
import { Empty, ErrorBox, Loading } from '../components/states';
import { fmtNumber, fmtTime } from '../format';
import { useAsync } from '../hooks';
import { href, setQuery, useLocation } from '../router';
import { ModelTabs, RunRef } from './model-links';
import { rowKeys } from '../components/row-keys';

/** MLflow 3's logged models over every active experiment, newest first. */
export function LoggedModelsPage() {
  const { query } = useLocation();
  const search = (query.get('q') ?? '').toLowerCase();
  const data = useAsync(async () => {
    const exps = await searchExperiments('ACTIVE_ONLY');
    const names = new Map(exps.map((e) => [e.experiment_id, e.name]));
    const ids = exps.map((e) => e.experiment_id);
    const models = [];
    for (let i = 0; i < ids.length; i += 100) models.push(...(await searchLoggedModels(ids.slice(i, i + 100))));
    models.sort((a, b) => Number(b.info.creation_timestamp_ms ?? 0) - Number(a.info.creation_timestamp_ms ?? 0));
    return { models, names };
  }, []);
  const rows = useMemo(() => (data.data?.models ?? []).filter((m) => !search || m.info.name.toLowerCase().includes(search) || m.info.model_id.includes(search)), [data.data, search]);
  return (
    <div className="page">
      <PageHeader title="Models" />
      <ModelTabs active="logged" />
      <div className="toolbar">
        <input className="input grow" type="search" aria-label="Search logged models" placeholder="Search logged models by name or id" value={query.get('q') ?? ''} onChange={(e) => setQuery(new URLSearchParams(e.target.value ? { q: e.target.value } : {}))} />
      </div>
      {data.error ? (
        <ErrorBox error={data.error} onRetry={data.reload} />
      ) : !data.data ? (
        <Loading />
      ) : rows.length === 0 ? (
        <Empty title={search ? 'Nothing matches' : 'No logged models yet'}>
          {!search && <pre>{`with mlflow.start_run():
    mlflow.sklearn.log_model(model, name="model")`}</pre>}
        </Empty>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="logged-models-table">
            <thead><tr><th>Name</th><th>Model ID</th><th>Experiment</th><th>Source run</th><th>Status</th><th>Created</th></tr></thead>
            <tbody onKeyDown={rowKeys}>
              {rows.map((m) => (
                <tr key={m.info.model_id} data-testid="logged-model-row">
                  <td><a href={href(`/logged-models/${m.info.model_id}`)}>{m.info.name}</a></td>
                  <td className="mono muted">{m.info.model_id}</td>
                  <td><a href={href(`/experiments/${m.info.experiment_id}`)}>{data.data!.names.get(m.info.experiment_id) ?? m.info.experiment_id}</a></td>
                  <td><RunRef runId={m.info.source_run_id} /></td>
                  <td className="muted">{m.info.status?.replace('LOGGED_MODEL_', '').toLowerCase()}</td>
                  <td className="muted">{fmtTime(m.info.creation_timestamp_ms)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

export function LoggedModelPage({ id }: { id: string }) {
  const m = useAsync(() => getLoggedModel(id), [id]);
  if (m.error) return <div className="page"><ErrorBox error={m.error} onRetry={m.reload} /></div>;
  if (!m.data) return <div className="page"><Loading /></div>;
  const { info, data } = m.data;
  return (
    <div className="page">
      <PageHeader crumbs={[{ label: 'Models', href: href('/models') }, { label: 'Logged models', href: href('/logged-models') }]} title={info.name} />
      <div className="grid-2">
        <section className="card">
          <div className="card-title">Details</div>
          <dl className="kv">
            <dt>Model ID</dt><dd className="mono">{info.model_id}</dd>
            <dt>Status</dt><dd>{info.status}</dd>
            <dt>Experiment</dt><dd><a href={href(`/experiments/${info.experiment_id}`)}>{info.experiment_id}</a></dd>
            <dt>Source run</dt><dd><RunRef runId={info.source_run_id} /></dd>
            <dt>Type</dt><dd>{info.model_type || '—'}</dd>
            <dt>Created</dt><dd>{fmtTime(info.creation_timestamp_ms)}</dd>
            <dt>Artifacts</dt><dd className="mono">{info.artifact_uri}</dd>
          </dl>
        </section>
        <section className="card">
          <div className="card-title">Metrics</div>
          {data?.metrics?.length ? (
            <dl className="kv">{data.metrics.map((x) => [<dt key={`k${x.key}`}>{x.key}</dt>, <dd key={`v${x.key}`} className="mono">{fmtNumber(x.value)}</dd>])}</dl>
          ) : <span className="muted">No metrics.</span>}
          <div className="card-title" style={{ marginTop: 16 }}>Parameters</div>
          {data?.params?.length ? (
            <dl className="kv">{data.params.map((x) => [<dt key={`k${x.key}`}>{x.key}</dt>, <dd key={`v${x.key}`} className="mono">{x.value}</dd>])}</dl>
          ) : <span className="muted">No parameters.</span>}
          <div className="card-title" style={{ marginTop: 16 }}>Tags</div>
          <div className="chips">
            {(info.tags ?? []).filter((t) => !t.key.startsWith('mlflow.')).map((t) => <span key={t.key} className="chip"><strong>{t.key}</strong> = {t.value}</span>)}
          </div>
        </section>
      </div>
    </div>
  );
}
