import { useState } from 'react';
import { deleteRunTag, setRunTag } from '../../api/mlflow';
import type { KeyValue } from '../../api/types';
import { ErrorBox } from '../../components/states';

// Editable run tags. Tags the clients set for themselves (mlflow.*, wandb.*) are shown apart and
// read-only here: they drive other parts of the page (name, notes, parent, source).

const isSystem = (k: string) => k.startsWith('mlflow.') || k.startsWith('wandb.');

export function TagsEditor({ runId, tags, onChanged }: { runId: string; tags: KeyValue[]; onChanged: () => void }) {
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const [editing, setEditing] = useState<string | null>(null);
  const [draft, setDraft] = useState('');
  const [error, setError] = useState<unknown>();
  const [showSystem, setShowSystem] = useState(false);
  const user = tags.filter((t) => !isSystem(t.key)).sort((a, b) => a.key.localeCompare(b.key));
  const system = tags.filter((t) => isSystem(t.key)).sort((a, b) => a.key.localeCompare(b.key));
  const run = async (fn: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await fn();
      onChanged();
      return true;
    } catch (e) {
      setError(e);
      return false;
    }
  };
  const add = async (e: React.FormEvent) => {
    e.preventDefault();
    if (!key.trim()) return;
    if (await run(() => setRunTag(runId, key.trim(), value))) {
      setKey('');
      setValue('');
    }
  };
  return (
    <div className="tags-editor" data-testid="run-tags">
      {user.length === 0 && <div className="muted">No tags yet.</div>}
      <div className="tag-list">
        {user.map((t) =>
          editing === t.key ? (
            <form
              key={t.key}
              className="tag-edit"
              onSubmit={async (e) => {
                e.preventDefault();
                if (await run(() => setRunTag(runId, t.key, draft))) setEditing(null);
              }}
            >
              <span className="mono">{t.key}</span>
              <input className="input input-sm" aria-label={`Value of ${t.key}`} autoFocus value={draft} onChange={(e) => setDraft(e.target.value)} onKeyDown={(e) => e.key === 'Escape' && setEditing(null)} />
              <button className="btn btn-sm btn-primary" type="submit">Save</button>
            </form>
          ) : (
            <span key={t.key} className="tag" data-testid="tag" data-key={t.key}>
              <button className="tag-body" title="Edit value" onClick={() => (setEditing(t.key), setDraft(t.value))}>
                <span className="tag-key">{t.key}</span>
                {t.value !== '' && <span className="tag-value">{t.value}</span>}
              </button>
              <button className="tag-remove" aria-label={`Remove tag ${t.key}`} onClick={() => run(() => deleteRunTag(runId, t.key))}>
                ×
              </button>
            </span>
          ),
        )}
      </div>
      <form className="toolbar tag-add" onSubmit={add}>
        <input className="input input-sm" placeholder="key" aria-label="New tag key" value={key} onChange={(e) => setKey(e.target.value)} />
        <input className="input input-sm" placeholder="value" aria-label="New tag value" value={value} onChange={(e) => setValue(e.target.value)} />
        <button className="btn btn-sm" type="submit" disabled={!key.trim()}>
          Add tag
        </button>
        {system.length > 0 && (
          <button type="button" className="btn btn-sm btn-ghost" onClick={() => setShowSystem(!showSystem)}>
            {showSystem ? 'Hide' : 'Show'} {system.length} system tags
          </button>
        )}
      </form>
      {error !== undefined && <ErrorBox error={error} />}
      {showSystem && (
        <dl className="kv kv-compact">
          {system.map((t) => [
            <dt key={`k${t.key}`} className="mono">{t.key}</dt>,
            <dd key={`v${t.key}`} className="mono">{t.value.length > 300 ? `${t.value.slice(0, 300)}…` : t.value}</dd>,
          ])}
        </dl>
      )}
    </div>
  );
}
