import { Fragment } from 'react';
import type { Span } from '../../api/traces';
import { fmtMs } from '../../api/traces';
import { StatusBadge } from '../../components/states';

// The chosen span: what went in and came out (as the client recorded them, pretty-printed JSON),
// its own attributes, and its events (an exception is an event named "exception").

function Json({ value, testid }: { value: unknown; testid?: string }) {
  const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  return <pre className="json" data-testid={testid}>{text}</pre>;
}

export function SpanDetail({ span, traceStart }: { span: Span; traceStart: bigint }) {
  const attrs = Object.entries(span.attributes).sort(([a], [b]) => a.localeCompare(b));
  return (
    <section className="card span-detail" aria-label="Span" data-testid="span-detail">
      <h2 className="span-title">
        <span data-testid="span-detail-name">{span.name}</span> <StatusBadge status={span.status} />
        {span.type && <span className="muted"> · {span.type}</span>}
      </h2>
      <dl className="kv">
        <dt>Span ID</dt><dd className="mono">{span.id}</dd>
        <dt>Starts at</dt><dd>+{fmtMs(Number(span.startNs - traceStart) / 1e6)}</dd>
        <dt>Duration</dt><dd>{span.endNs === undefined ? 'not ended' : fmtMs(Number(span.endNs - span.startNs) / 1e6)}</dd>
        <dt>Kind</dt><dd>{span.kind}</dd>
        {span.statusMessage && <><dt>Status message</dt><dd>{span.statusMessage}</dd></>}
      </dl>
      <h3>Inputs</h3>
      {span.inputs === undefined ? <p className="muted">None recorded.</p> : <Json value={span.inputs} testid="span-inputs" />}
      <h3>Outputs</h3>
      {span.outputs === undefined ? <p className="muted">None recorded.</p> : <Json value={span.outputs} testid="span-outputs" />}
      <h3>Attributes</h3>
      {attrs.length === 0 ? (
        <p className="muted">None.</p>
      ) : (
        <dl className="kv" data-testid="span-attributes">
          {attrs.map(([k, v]) => (
            <Fragment key={k}><dt className="mono">{k}</dt><dd className="mono">{typeof v === 'string' ? v : JSON.stringify(v)}</dd></Fragment>
          ))}
        </dl>
      )}
      <h3>Events</h3>
      {span.events.length === 0 ? (
        <p className="muted">None.</p>
      ) : (
        <ul className="span-events" data-testid="span-events">
          {span.events.map((e, i) => (
            <li key={i}>
              <strong>{e.name}</strong> <span className="muted">+{fmtMs(Number(e.timeNs - traceStart) / 1e6)}</span>
              {Object.keys(e.attributes).length > 0 && <Json value={e.attributes} />}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
