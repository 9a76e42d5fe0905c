import { getRegisteredModel, searchModelVersions } from '../api/mlflow';
import { tagValue } from '../api/types';
import { PageHeader } from '../components/shell';
import { Empty, ErrorBox, Loading } from '../components/states';
import { fmtTime } from '../format';
import { useAsync } from '../hooks';
import { href } from '../router';

/** A prompt (a registered model tagged as one) and its versions' templates, newest first. */
export function PromptPage({ name, version }: { name: string; version?: string }) {
  const model = useAsync(() => getRegisteredModel(name), [name]);
  const versions = useAsync(() => searchModelVersions(name, true), [name]);
  if (model.error) return <div className="page"><ErrorBox error={model.error} onRetry={model.reload} /></div>;
  if (!model.data || (!versions.data && !versions.error)) return <div className="page"><Loading /></div>;
  const shown = (versions.data ?? []).filter((v) => !version || v.version === version);
  const aliasesOf = (v: string) => (model.data!.aliases ?? []).filter((a) => a.version === v).map((a) => a.alias);
  return (
    <div className="page">
      <PageHeader crumbs={[{ label: 'Prompts', href: href('/prompts') }]} title={version ? `${name} · Version ${version}` : name} />
      {model.data.description && <p className="muted">{model.data.description}</p>}
      {versions.error ? <ErrorBox error={versions.error} onRetry={versions.reload} /> : shown.length === 0 ? <Empty title="No versions" /> : null}
      {shown.map((v) => (
        <section key={v.version} className="card" data-testid="prompt-version">
          <div className="toolbar" style={{ marginBottom: 8 }}>
            <a href={href(`/prompts/${encodeURIComponent(name)}/versions/${v.version}`)}><strong>Version {v.version}</strong></a>
            {aliasesOf(v.version).map((a) => <span key={a} className="chip">@{a}</span>)}
            <span className="muted">{fmtTime(v.creation_timestamp)}</span>
            {v.description && <span className="muted">— {v.description}</span>}
          </div>
          <pre className="prompt-text">{tagValue(v.tags, 'mlflow.prompt.text') ?? ''}</pre>
        </section>
      ))}
    </div>
  );
}
