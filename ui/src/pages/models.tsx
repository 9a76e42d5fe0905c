import { useMemo } from 'react';
import { searchRegisteredModels } from '../api/mlflow';
import { tagValue, type RegisteredModel } from '../api/types';
import { PageHeader } from '../components/shell';
import { Empty, ErrorBox, Loading } from '../components/states';
import { fmtAgo, fmtTime } from '../format';
import { useAsync, useDebounced } from '../hooks';
import { href, setQuery, useLocation } from '../router';
import { ModelTabs } from './model-links';
import { rowKeys } from '../components/row-keys';

export const isPrompt = (m: RegisteredModel) => tagValue(m.tags, 'mlflow.prompt.is_prompt') === 'true';
export const PROMPT_CLAUSE = "tags.`mlflow.prompt.is_prompt` = 'true'";
const like = (s: string) => `name ILIKE '%${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}%'`;

/** The model registry (`prompts` shows the registered models that are prompts). */
export function ModelsPage({ prompts = false }: { prompts?: boolean }) {
  const { query } = useLocation();
  const search = query.get('q') ?? '';
  const q = useDebounced(search.trim(), 250);
  const list = useAsync(() => searchRegisteredModels([prompts && PROMPT_CLAUSE, q && like(q)].filter(Boolean).join(' and ')), [q, prompts]);
  const rows = useMemo(() => (list.data ?? []).filter((m) => isPrompt(m) === prompts), [list.data, prompts]);
  const base = prompts ? '/prompts' : '/models';
  return (
    <div className="page">
      <PageHeader title={prompts ? 'Prompts' : 'Models'} />
      {!prompts && <ModelTabs active="registered" />}
      <div className="toolbar">
        <input
          className="input grow"
          type="search"
          aria-label={prompts ? 'Search prompts' : 'Search models'}
          placeholder={prompts ? 'Search prompts by name' : 'Search registered models by name'}
          value={search}
          onChange={(e) => setQuery(new URLSearchParams(e.target.value ? { q: e.target.value } : {}))}
        />
      </div>
      {list.error ? (
        <ErrorBox error={list.error} onRetry={list.reload} />
      ) : !list.data ? (
        <Loading />
      ) : rows.length === 0 ? (
        q ? (
          <Empty title="Nothing matches">No {prompts ? 'prompt' : 'model'} is named like “{q}”.</Empty>
        ) : prompts ? (
          <Empty title="No prompts yet">
            <pre>{`import mlflow
mlflow.genai.register_prompt(name="summarize", template="Summarize: {{text}}")`}</pre>
          </Empty>
        ) : (
          <Empty title="No registered models yet">
            <pre>{`with mlflow.start_run():
    mlflow.sklearn.log_model(model, name="model", registered_model_name="my-model")`}</pre>
          </Empty>
        )
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid={prompts ? 'prompts-table' : 'models-table'}>
            <thead>
              <tr>
                <th>Name</th>
                <th>Latest version</th>
                {!prompts && <th>Aliases</th>}
                <th>Last modified</th>
                <th>Description</th>
              </tr>
            </thead>
            <tbody onKeyDown={rowKeys}>
              {rows.map((m) => {
                const latest = Math.max(0, ...(m.latest_versions ?? []).map((v) => Number(v.version)));
                return (
                  <tr key={m.name} data-testid="model-row">
                    <td><a href={href(`${base}/${encodeURIComponent(m.name)}`)}>{m.name}</a></td>
                    <td>{latest ? <a href={href(`${base}/${encodeURIComponent(m.name)}/versions/${latest}`)}>Version {latest}</a> : <span className="muted">—</span>}</td>
                    {!prompts && (
                      <td>
                        {(m.aliases ?? []).map((a) => (
                          <span key={a.alias} className="chip" style={{ marginRight: 4 }}>@{a.alias} → v{a.version}</span>
                        ))}
                      </td>
                    )}
                    <td title={fmtTime(m.last_updated_timestamp)}>{fmtAgo(m.last_updated_timestamp)}</td>
                    <td className="muted" style={{ maxWidth: 420, overflow: 'hidden', textOverflow: 'ellipsis' }}>{m.description}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
