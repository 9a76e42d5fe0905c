import { useState } from 'react';
import { isMissingEndpoint } from '../../api/client';
import { currentUser } from '../../api/teams';
import { logFeedback, type Assessment } from '../../api/traces';
import { fmtTime } from '../../format';

// A trace's feedback and expectations as logged (log_feedback, log_expectation, override_feedback):
// an overridden one stays listed, marked no longer valid. A person reading the trace can add their
// own feedback here: it is logged as the client's log_feedback logs a human's (source HUMAN, their
// user name when the server has accounts), so the client and evaluation code read it back as such.

function valueOf(a: Assessment): string {
  if (a.feedback) {
    if (a.feedback.error) return `error: ${a.feedback.error.error_message ?? a.feedback.error.error_code ?? ''}`;
    return JSON.stringify(a.feedback.value ?? null);
  }
  if (a.expectation) return a.expectation.serialized_value?.value ?? JSON.stringify(a.expectation.value ?? null);
  return '—';
}

type Kind = 'yes/no' | 'number' | 'text';

function FeedbackForm({ traceId, names, onDone }: { traceId: string; names: string[]; onDone: (added: boolean) => void }) {
  const [name, setName] = useState('');
  const [kind, setKind] = useState<Kind>('yes/no');
  const [value, setValue] = useState('yes');
  const [rationale, setRationale] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const parsed = kind === 'yes/no' ? value === 'yes' : kind === 'number' ? Number(value) : value;
  const invalid = !name.trim()
    ? 'Name the feedback'
    : kind === 'number' && (value.trim() === '' || !Number.isFinite(parsed))
      ? 'The value must be a number'
      : kind === 'text' && !value.trim()
        ? 'Write the feedback'
        : undefined;

  const submit = async () => {
    setBusy(true);
    setError(undefined);
    try {
      // Without accounts (the server has no users/current then) there is no user name to give; the
      // source stays a human's all the same. Any other failure is shown, not papered over.
      const who = await currentUser().then(
        (u) => u.username,
        (err: unknown) => {
          if (isMissingEndpoint(err)) return 'cairn-ui';
          throw err;
        },
      );
      await logFeedback(traceId, { name: name.trim(), value: parsed, rationale: rationale.trim() || undefined, sourceId: who });
      onDone(true);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  };

  return (
    <form
      className="feedback-form"
      data-testid="feedback-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (!invalid && !busy) void submit();
      }}
    >
      <input className="input" aria-label="Feedback name" placeholder="Name, e.g. correct" list="feedback-names" value={name} onChange={(e) => setName(e.target.value)} autoFocus />
      <datalist id="feedback-names">{names.map((n) => <option key={n} value={n} />)}</datalist>
      <select
        className="input"
        aria-label="Feedback kind"
        value={kind}
        onChange={(e) => {
          const k = e.target.value as Kind;
          setKind(k);
          setValue(k === 'yes/no' ? 'yes' : '');
        }}
      >
        <option value="yes/no">Yes / no</option>
        <option value="number">Number</option>
        <option value="text">Text</option>
      </select>
      {kind === 'yes/no' ? (
        <select className="input" aria-label="Feedback value" value={value} onChange={(e) => setValue(e.target.value)}>
          <option value="yes">Yes</option>
          <option value="no">No</option>
        </select>
      ) : (
        <input className="input" aria-label="Feedback value" inputMode={kind === 'number' ? 'decimal' : undefined} placeholder={kind === 'number' ? '0.8' : 'Value'} value={value} onChange={(e) => setValue(e.target.value)} />
      )}
      <input className="input grow" aria-label="Rationale" placeholder="Rationale (optional)" value={rationale} onChange={(e) => setRationale(e.target.value)} />
      <button className="btn btn-primary" type="submit" disabled={!!invalid || busy} title={invalid}>
        {busy ? 'Saving…' : 'Add'}
      </button>
      <button className="btn" type="button" onClick={() => onDone(false)}>Cancel</button>
      {error && <p className="form-error" role="alert">{error}</p>}
    </form>
  );
}

export function AssessmentsCard({ traceId, assessments, onAdded }: { traceId: string; assessments: Assessment[]; onAdded: () => void }) {
  const [adding, setAdding] = useState(false);
  const names = [...new Set(assessments.filter((a) => a.feedback).map((a) => a.assessment_name))];
  return (
    <section className="card" aria-label="Assessments">
      <div className="card-head">
        <h2 className="card-title">Assessments</h2>
        {!adding && <button className="btn btn-sm" onClick={() => setAdding(true)}>Add feedback</button>}
      </div>
      {adding && (
        <FeedbackForm
          traceId={traceId}
          names={names}
          onDone={(added) => {
            setAdding(false);
            if (added) onAdded();
          }}
        />
      )}
      {assessments.length === 0 ? (
        <p className="muted">None yet: add feedback here, or log it with <code>mlflow.log_feedback(trace_id=…, name=…, value=…)</code>.</p>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="assessments">
            <thead>
              <tr><th>Name</th><th>Kind</th><th>Value</th><th>Rationale</th><th>Source</th><th>Logged</th><th>Valid</th></tr>
            </thead>
            <tbody>
              {assessments.map((a, i) => (
                <tr key={a.assessment_id ?? i} data-testid="assessment-row" className={a.valid === false ? 'muted' : undefined}>
                  <td>{a.assessment_name}</td>
                  <td>{a.feedback ? 'feedback' : a.expectation ? 'expectation' : '—'}</td>
                  <td className="mono">{valueOf(a)}</td>
                  <td className="trace-preview" title={a.rationale}>{a.rationale ?? ''}</td>
                  <td>{[a.source?.source_type, a.source?.source_id].filter(Boolean).join(' · ')}</td>
                  <td>{a.create_time ? fmtTime(Date.parse(a.create_time)) : '—'}</td>
                  <td>{a.valid === false ? 'overridden' : 'yes'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
