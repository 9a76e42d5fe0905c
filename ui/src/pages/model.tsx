import { getRegisteredModel, searchModelVersions, setRegisteredModelTag, updateRegisteredModel } from '../api/mlflow';
import { EditableText, TagEditor } from '../components/editable';
import { PageHeader } from '../components/shell';
import { Empty, ErrorBox, Loading } from '../components/states';
import { fmtTime } from '../format';
import { useAsync } from '../hooks';
import { href } from '../router';
import { RunRef, stageBadge } from './model-links';
import { rowKeys } from '../components/row-keys';


/** A registered model: description, tags, aliases and its versions. */
export function ModelPage({ name }: { name: string }) {
  const model = useAsync(() => getRegisteredModel(name), [name]);
  const versions = useAsync(() => searchModelVersions(name), [name]);
  if (model.error) return <div className="page"><ErrorBox error={model.error} onRetry={model.reload} /></div>;
  if (!model.data) return <div className="page"><Loading /></div>;
  const m = model.data;
  const aliasesOf = (v: string) => (m.aliases ?? []).filter((a) => a.version === v).map((a) => a.alias);
  const enc = encodeURIComponent(name);
  return (
    <div className="page">
      <PageHeader crumbs={[{ label: 'Models', href: href('/models') }]} title={m.name} />
      <div className="grid-2">
        <section className="card">
          <div className="card-title">Description</div>
          <EditableText label="description" value={m.description ?? ''} placeholder="No description." onSave={async (d) => { await updateRegisteredModel(name, d); model.reload(); }} />
        </section>
        <section className="card">
          <div className="card-title">Tags</div>
          <TagEditor tags={m.tags ?? []} onSet={async (k, v) => { await setRegisteredModelTag(name, k, v); model.reload(); }} />
          <div className="card-title" style={{ marginTop: 16 }}>Aliases</div>
          <div className="chips" data-testid="model-aliases">
            {(m.aliases ?? []).length === 0 && <span className="muted">No aliases. Set one on a version.</span>}
            {(m.aliases ?? []).map((a) => (
              <a key={a.alias} className="chip" href={href(`/models/${enc}/versions/${a.version}`)}>@{a.alias} → v{a.version}</a>
            ))}
          </div>
        </section>
      </div>
      <h2 className="card-title" style={{ marginTop: 8 }}>Versions</h2>
      {versions.error ? (
        <ErrorBox error={versions.error} onRetry={versions.reload} />
      ) : !versions.data ? (
        <Loading />
      ) : versions.data.length === 0 ? (
        <Empty title="No versions">Register one with <code>mlflow.register_model(...)</code>.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="versions-table">
            <thead>
              <tr><th>Version</th><th>Stage</th><th>Aliases</th><th>Created</th><th>Source run</th><th>Status</th><th>Description</th></tr>
            </thead>
            <tbody onKeyDown={rowKeys}>
              {versions.data.map((v) => (
                <tr key={v.version} data-testid="version-row">
                  <td><a href={href(`/models/${enc}/versions/${v.version}`)}>Version {v.version}</a></td>
                  <td>{stageBadge(v.current_stage)}</td>
                  <td>{aliasesOf(v.version).map((a) => <span key={a} className="chip" style={{ marginRight: 4 }}>@{a}</span>)}</td>
                  <td className="muted">{fmtTime(v.creation_timestamp)}</td>
                  <td><RunRef runId={v.run_id} /></td>
                  <td className="muted">{v.status}</td>
                  <td className="muted">{v.description}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

