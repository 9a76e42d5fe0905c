import { useState } from 'react';
import type { KeyValue } from '../api/types';
import { ErrorBox } from './states';

/** Text shown as-is, edited in place (description, notes); the API's error stays visible on failure. */
export function EditableText({ label, value, onSave, placeholder }: { label: string; value: string; onSave: (v: string) => Promise<unknown>; placeholder: string }) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(value);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  if (!editing)
    return (
      <div className="editable">
        <div className={value ? 'editable-text' : 'editable-text muted'} data-testid={`${label}-text`}>{value || placeholder}</div>
        <button className="btn btn-sm" onClick={() => { setDraft(value); setEditing(true); }} aria-label={`Edit ${label}`}>Edit</button>
      </div>
    );
  return (
    <div className="editable-form">
      <textarea className="input" rows={4} aria-label={label} value={draft} autoFocus onChange={(e) => setDraft(e.target.value)} />
      {error !== undefined && <ErrorBox error={error} />}
      <div className="toolbar">
        <button
          className="btn btn-primary btn-sm"
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            try {
              await onSave(draft);
              setEditing(false);
              setError(undefined);
            } catch (e) {
              setError(e);
            } finally {
              setBusy(false);
            }
          }}
        >
          Save
        </button>
        <button className="btn btn-sm" onClick={() => setEditing(false)}>Cancel</button>
      </div>
    </div>
  );
}

/** Tags as chips with remove buttons and a small add form. */
export function TagEditor({ tags, onSet, onDelete, hidePrefix = 'mlflow.' }: { tags: KeyValue[]; onSet: (k: string, v: string) => Promise<unknown>; onDelete?: (k: string) => Promise<unknown>; hidePrefix?: string }) {
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const [error, setError] = useState<unknown>();
  const shown = tags.filter((t) => !t.key.startsWith(hidePrefix));
  const run = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
      setError(undefined);
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div className="tag-editor">
      <div className="chips" data-testid="tags">
        {shown.length === 0 && <span className="muted">No tags.</span>}
        {shown.map((t) => (
          <span key={t.key} className="chip">
            <strong>{t.key}</strong>
            {t.value && <span>= {t.value}</span>}
            {onDelete && <button aria-label={`Remove tag ${t.key}`} onClick={() => run(() => onDelete(t.key))}>×</button>}
          </span>
        ))}
      </div>
      <form
        className="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          if (!key.trim()) return;
          void run(async () => {
            await onSet(key.trim(), value);
            setKey('');
            setValue('');
          });
        }}
      >
        <input className="input" placeholder="key" aria-label="Tag key" value={key} onChange={(e) => setKey(e.target.value)} />
        <input className="input" placeholder="value" aria-label="Tag value" value={value} onChange={(e) => setValue(e.target.value)} />
        <button className="btn btn-sm" type="submit">Add tag</button>
      </form>
      {error !== undefined && <ErrorBox error={error} />}
    </div>
  );
}
