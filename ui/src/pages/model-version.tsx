import { useState } from 'react';
import { deleteModelAlias, deleteModelVersionTag, getModelVersion, getRegisteredModel, setModelAlias, setModelVersionTag, transitionStage, updateModelVersion } from '../api/mlflow';
import { EditableText, TagEditor } from '../components/editable';
import { PageHeader } from '../components/shell';
import { ErrorBox, Loading } from '../components/states';
import { fmtTime } from '../format';
import { useAsync } from '../hooks';
import { href } from '../router';
import { RunRef, stageBadge } from './model-links';

const STAGES = ['None', 'Staging', 'Production', 'Archived'];

/** One model version: stage, aliases, description, tags, source run and logged model. */
export function ModelVersionPage({ name, version }: { name: string; version: string }) {
  const mv = useAsync(() => getModelVersion(name, version), [name, version]);
  const model = useAsync(() => getRegisteredModel(name), [name]);
  const [alias, setAlias] = useState('');
  const [error, setError] = useState<unknown>();
  if (mv.error) return <div className="page"><ErrorBox error={mv.error} onRetry={mv.reload} /></div>;
  if (!mv.data) return <div className="page"><Loading /></div>;
  const v = mv.data;
  const aliases = (model.data?.aliases ?? []).filter((a) => a.version === version).map((a) => a.alias);
  const act = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
      setError(undefined);
      mv.reload();
      model.reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div className="page">
      <PageHeader
        crumbs={[{ label: 'Models', href: href('/models') }, { label: name, href: href(`/models/${encodeURIComponent(name)}`) }]}
        title={`${name} · Version ${v.version}`}
        actions={stageBadge(v.current_stage)}
      />
      {error !== undefined && <ErrorBox error={error} />}
      <div className="grid-2">
        <section className="card">
          <div className="card-title">Details</div>
          <dl className="kv">
            <dt>Status</dt><dd>{v.status}</dd>
            <dt>Created</dt><dd>{fmtTime(v.creation_timestamp)}</dd>
            <dt>Last modified</dt><dd>{fmtTime(v.last_updated_timestamp)}</dd>
            <dt>User</dt><dd>{v.user_id || '—'}</dd>
            <dt>Source</dt><dd className="mono">{v.source}</dd>
            <dt>Source run</dt><dd><RunRef runId={v.run_id} /></dd>
            {v.model_id && (<><dt>Logged model</dt><dd><a className="mono" href={href(`/logged-models/${v.model_id}`)}>{v.model_id}</a></dd></>)}
            <dt>Stage</dt>
            <dd>
              <select className="input" aria-label="Stage" value={v.current_stage || 'None'} onChange={(e) => act(() => transitionStage(name, version, e.target.value))}>
                {STAGES.map((s) => <option key={s} value={s}>{s}</option>)}
              </select>
            </dd>
          </dl>
        </section>
        <section className="card">
          <div className="card-title">Aliases</div>
          <div className="chips" data-testid="version-aliases">
            {aliases.length === 0 && <span className="muted">No aliases.</span>}
            {aliases.map((a) => (
              <span key={a} className="chip">
                @{a}
                <button aria-label={`Remove alias ${a}`} onClick={() => act(() => deleteModelAlias(name, a))}>×</button>
              </span>
            ))}
          </div>
          <form
            className="toolbar"
            onSubmit={(e) => {
              e.preventDefault();
              if (alias.trim()) void act(async () => { await setModelAlias(name, alias.trim(), version); setAlias(''); });
            }}
          >
            <input className="input" placeholder="e.g. champion" aria-label="New alias" value={alias} onChange={(e) => setAlias(e.target.value)} />
            <button className="btn btn-sm" type="submit">Add alias</button>
          </form>
          <div className="card-title" style={{ marginTop: 16 }}>Tags</div>
          <TagEditor
            tags={v.tags ?? []}
            onSet={async (k, val) => { await setModelVersionTag(name, version, k, val); mv.reload(); }}
            onDelete={async (k) => { await deleteModelVersionTag(name, version, k); mv.reload(); }}
          />
        </section>
      </div>
      <section className="card">
        <div className="card-title">Description</div>
        <EditableText label="description" value={v.description ?? ''} placeholder="No description." onSave={async (d) => { await updateModelVersion(name, version, d); mv.reload(); }} />
      </section>
    </div>
  );
}
