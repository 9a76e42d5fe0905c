import type { Assessment } from '../../api/traces';
import { fmtTime } from '../../format';

// A trace's feedback and expectations as logged (log_feedback, log_expectation, override_feedback):
// an overridden one stays listed, marked no longer valid.

function valueOf(a: Assessment): string {
  if (a.feedback) {
    if (a.feedback.error) return `error: ${a.feedback.error.error_message ?? a.feedback.error.error_code ?? ''}`;
    return JSON.stringify(a.feedback.value ?? null);
  }
  if (a.expectation) return a.expectation.serialized_value?.value ?? JSON.stringify(a.expectation.value ?? null);
  return '—';
}

export function AssessmentsCard({ assessments }: { assessments: Assessment[] }) {
  return (
    <section className="card" aria-label="Assessments">
      <h2 className="card-title">Assessments</h2>
      {assessments.length === 0 ? (
        <p className="muted">None yet: log one with <code>mlflow.log_feedback(trace_id=…, name=…, value=…)</code>.</p>
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
