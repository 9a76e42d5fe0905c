import { useState } from 'react';
import { setRunTag } from '../../api/mlflow';
import { ErrorBox } from '../../components/states';

export const NOTE_TAG = 'mlflow.note.content';

/** The run's description, kept where MLflow keeps it (the `mlflow.note.content` tag). */
export function Notes({ runId, value, onSaved }: { runId: string; value: string; onSaved: () => void }) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(value);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const save = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await setRunTag(runId, NOTE_TAG, draft);
      setEditing(false);
      onSaved();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  if (!editing) {
    return (
      <div className="notes" data-testid="run-notes">
        {value ? <div className="notes-text">{value}</div> : <div className="muted">No description. Add what this run tried and what you learned.</div>}
        <button className="btn btn-sm" onClick={() => (setDraft(value), setEditing(true))}>
          {value ? 'Edit notes' : 'Add notes'}
        </button>
      </div>
    );
  }
  return (
    <div className="notes">
      <textarea className="input notes-input" rows={6} aria-label="Notes" autoFocus value={draft} onChange={(e) => setDraft(e.target.value)}
        onKeyDown={(e) => (e.key === 'Enter' && (e.metaKey || e.ctrlKey) ? void save() : e.key === 'Escape' && setEditing(false))} />
      {error !== undefined && <ErrorBox error={error} />}
      <div className="toolbar">
        <button className="btn btn-primary btn-sm" onClick={save} disabled={busy}>
          {busy ? 'Saving…' : 'Save notes'}
        </button>
        <button className="btn btn-sm" onClick={() => setEditing(false)}>
          Cancel
        </button>
        <span className="muted">Ctrl+Enter saves</span>
      </div>
    </div>
  );
}
