import { Fragment, useState } from 'react';
import type { Span } from '../../api/traces';
import { fmtMs } from '../../api/traces';
import { StatusBadge } from '../../components/states';
import { chatOf, fmtTokens, parsedJson, SPAN_MODEL, SPAN_TOKEN_USAGE, tokenUsage, type ChatMessage } from './llm';

// The chosen span: what went in and came out (a chat as messages, anything else as pretty-printed
// JSON), the model and tokens of an LLM call, its own attributes, and its events (an exception is
// an event named "exception").

function Json({ value, testid }: { value: unknown; testid?: string }) {
  const v = parsedJson(value);
  const text = typeof v === 'string' ? v : JSON.stringify(v, null, 2);
  return <pre className="json" data-testid={testid}>{text}</pre>;
}

function Chat({ messages, testid }: { messages: ChatMessage[]; testid: string }) {
  return (
    <ol className="chat" data-testid={testid}>
      {messages.map((m, i) => (
        <li key={i} className={`chat-msg r-${m.role.replace(/[^a-z]/gi, '').toLowerCase()}`} data-testid="chat-message">
          <span className="chat-role">{m.role}</span>
          <div className="chat-text">{m.text || <span className="muted">(empty)</span>}</div>
        </li>
      ))}
    </ol>
  );
}

/** Inputs or outputs under their heading: as a chat when they hold one (the JSON a click away), else as JSON. */
function Payload({ title, value, testid, asJson, onToggle }: { title: string; value: unknown; testid: string; asJson: boolean; onToggle: () => void }) {
  const chat = value === undefined ? undefined : chatOf(value);
  return (
    <>
      <h3 className="payload-head">
        {title}
        {chat && (
          <button className="btn btn-sm" onClick={onToggle} aria-pressed={asJson}>
            {asJson ? 'Show as chat' : 'Show JSON'}
          </button>
        )}
      </h3>
      {value === undefined ? (
        <p className="muted">None recorded.</p>
      ) : chat && !asJson ? (
        <Chat messages={chat} testid={`${testid}-chat`} />
      ) : (
        <Json value={value} testid={testid} />
      )}
    </>
  );
}

// Shown in their own rows above, so not again among the attributes.
const SHOWN_APART = new Set([SPAN_TOKEN_USAGE, SPAN_MODEL]);

export function SpanDetail({ span, traceStart }: { span: Span; traceStart: bigint }) {
  // One switch for the span's inputs and outputs: a reader comparing them wants the same view of both.
  const [asJson, setAsJson] = useState(false);
  const attrs = Object.entries(span.attributes)
    .filter(([k]) => !SHOWN_APART.has(k))
    .sort(([a], [b]) => a.localeCompare(b));
  const tokens = tokenUsage(span.attributes[SPAN_TOKEN_USAGE]);
  const model = parsedJson(span.attributes[SPAN_MODEL]);
  return (
    <section className="card span-detail" aria-label="Span" data-testid="span-detail">
      <h2 className="span-title">
        <span data-testid="span-detail-name">{span.name}</span> <StatusBadge status={span.status} />
        {span.type && <span className="muted"> · {span.type}</span>}
      </h2>
      <dl className="kv">
        <dt>Span ID</dt><dd className="mono">{span.id}</dd>
        <dt>Starts at</dt><dd>{span.startNs === traceStart ? 'the trace’s start' : `+${fmtMs(Number(span.startNs - traceStart) / 1e6)}`}</dd>
        <dt>Duration</dt><dd>{span.endNs === undefined ? 'not ended' : fmtMs(Number(span.endNs - span.startNs) / 1e6)}</dd>
        <dt>Kind</dt><dd>{span.kind}</dd>
        {typeof model === 'string' && model && <><dt>Model</dt><dd className="mono" data-testid="span-model">{model}</dd></>}
        {tokens && <><dt>Tokens</dt><dd data-testid="span-tokens">{fmtTokens(tokens)}</dd></>}
        {span.statusMessage && <><dt>Status message</dt><dd>{span.statusMessage}</dd></>}
      </dl>
      <Payload title="Inputs" value={span.inputs} testid="span-inputs" asJson={asJson} onToggle={() => setAsJson(!asJson)} />
      <Payload title="Outputs" value={span.outputs} testid="span-outputs" asJson={asJson} onToggle={() => setAsJson(!asJson)} />
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
