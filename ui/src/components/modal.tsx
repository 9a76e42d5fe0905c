import { useEffect, useRef, useState, type ReactNode } from 'react';
import { ErrorBox } from './states';

interface Field {
  name: string;
  label: string;
  initial?: string;
  placeholder?: string;
  multiline?: boolean;
}

/** A small form in a dialog: fields, submit, the API's error shown in place when submit fails. */
export function FormDialog({
  title,
  fields,
  submitLabel,
  onSubmit,
  onClose,
  danger,
  children,
}: {
  title: string;
  fields: Field[];
  submitLabel: string;
  onSubmit: (values: Record<string, string>) => Promise<unknown>;
  onClose: () => void;
  danger?: boolean;
  children?: ReactNode;
}) {
  const [values, setValues] = useState<Record<string, string>>(() => Object.fromEntries(fields.map((f) => [f.name, f.initial ?? ''])));
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await onSubmit(values);
      onClose();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <dialog ref={ref} className="dialog" onClose={onClose} onCancel={onClose} aria-label={title}>
      {/* An edit makes the last refusal stale: it goes, so the next answer is the one shown. */}
      <form onSubmit={submit} onChange={() => error !== undefined && setError(undefined)}>
        <h2 className="dialog-title">{title}</h2>
        {children}
        {fields.map((f, i) => (
          <label key={f.name} className="field">
            <span className="field-label">{f.label}</span>
            {f.multiline ? (
              <textarea
                className="input"
                name={f.name}
                rows={5}
                value={values[f.name]}
                placeholder={f.placeholder}
                autoFocus={i === 0}
                onChange={(e) => setValues({ ...values, [f.name]: e.target.value })}
              />
            ) : (
              <input
                className="input"
                name={f.name}
                value={values[f.name]}
                placeholder={f.placeholder}
                autoFocus={i === 0}
                onChange={(e) => setValues({ ...values, [f.name]: e.target.value })}
              />
            )}
          </label>
        ))}
        {error !== undefined && <ErrorBox error={error} />}
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className={`btn ${danger ? 'btn-danger' : 'btn-primary'}`} disabled={busy}>
            {busy ? 'Working…' : submitLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
