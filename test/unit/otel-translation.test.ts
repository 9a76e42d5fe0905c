import { describe, expect, it } from 'vitest';
import { translateOtelAttributes } from '../../src/domain/traces/otel-translation.js';
import { resourceTags, rootSpanTags, sessionAndUser } from '../../src/domain/traces/otlp-trace-fields.js';
import { usageMetadata } from '../../src/domain/traces/usage.js';
import type { SpanRecord } from '../../src/domain/traces/spans.js';

// Other instrumentations' attributes read as MLflow's (docs/tracing.md, "Spans from other
// instrumentations"); the real OpenTelemetry SDK's spans are in test/compat/test_tracing.py.

const translated = (attrs: Record<string, unknown>) => {
  const out = Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, typeof v === 'string' && v.startsWith('{') ? v : JSON.stringify(v)]));
  translateOtelAttributes(out);
  return out;
};

describe('translateOtelAttributes', () => {
  it('reads OpenInference: kind, inputs, outputs, token counts, model and provider', () => {
    const a = translated({ 'openinference.span.kind': 'LLM', 'input.value': '{"q": 1}', 'output.value': 'hi', 'llm.model_name': 'gpt-4o', 'llm.provider': 'openai',
      'llm.token_count.prompt': 12, 'llm.token_count.completion': 3, 'llm.token_count.prompt_details.cache_read': 4 });
    expect(a['mlflow.spanType']).toBe('"LLM"');
    expect(a['mlflow.spanInputs']).toBe('{"q": 1}');
    expect(a['mlflow.spanOutputs']).toBe('"hi"');
    // No total sent: input + output, as MLflow computes it.
    expect(a['mlflow.chat.tokenUsage']).toBe('{"input_tokens": 12, "output_tokens": 3, "total_tokens": 15, "cache_read_input_tokens": 4}');
    expect([a['mlflow.llm.model'], a['mlflow.llm.provider']]).toEqual(['"gpt-4o"', '"openai"']);
  });

  it('reads the OTel GenAI conventions and Traceloop, in that order after OpenInference', () => {
    const chat = translated({ 'gen_ai.operation.name': 'chat', 'gen_ai.usage.input_tokens': '7', 'gen_ai.usage.output_tokens': 2, 'gen_ai.request.model': 'm', 'gen_ai.provider.name': 'p' });
    expect([chat['mlflow.spanType'], chat['mlflow.chat.tokenUsage'], chat['mlflow.llm.model']]).toEqual(['"CHAT_MODEL"', '{"input_tokens": 7, "output_tokens": 2, "total_tokens": 9}', '"m"']);
    const loop = translated({ 'traceloop.span.kind': 'tool', 'gen_ai.prompt.0.content': 'p0', 'gen_ai.completion.0.content': 'c0', 'gen_ai.system': 'OpenAI' });
    expect([loop['mlflow.spanType'], loop['mlflow.spanInputs'], loop['mlflow.spanOutputs'], loop['mlflow.llm.provider']]).toEqual(['"TOOL"', '"p0"', '"c0"', '"OpenAI"']);
    // An unknown kind maps to nothing; an empty value is no value.
    const odd = translated({ 'openinference.span.kind': 'SOMETHING', 'input.value': '', 'gen_ai.input.messages': [] });
    expect([odd['mlflow.spanType'], odd['mlflow.spanInputs']]).toEqual([undefined, undefined]);
  });

  it("never replaces MLflow's own attributes, and finds a model named in the inputs", () => {
    const a = translated({ 'mlflow.spanType': 'AGENT', 'openinference.span.kind': 'LLM', 'mlflow.spanInputs': '{"model": "claude-x", "messages": []}', 'input.value': 'other' });
    expect([a['mlflow.spanType'], a['mlflow.spanInputs'], a['mlflow.llm.model']]).toEqual(['"AGENT"', '{"model": "claude-x", "messages": []}', '"claude-x"']);
    // UNKNOWN (a span the client did not type) is typed from the convention.
    expect(translated({ 'mlflow.spanType': 'UNKNOWN', 'openinference.span.kind': 'TOOL' })['mlflow.spanType']).toBe('"TOOL"');
    expect(translated({ n: 1 })).toEqual({ n: '1' });
  });
});

describe('usageMetadata', () => {
  const span = (id: string, parent: string | null, attributes: Record<string, string>): SpanRecord => ({
    trace_id: 't', span_id: id, parent_span_id: parent, name: id, kind: 'SPAN_KIND_INTERNAL', start_time_unix_nano: '1', end_time_unix_nano: '2',
    events: [], status: { code: 'STATUS_CODE_OK', message: '' }, attributes,
  });

  it("sums usage and cost over the span tree, a span's figures left out under an ancestor that has its own", () => {
    const usage = (i: number, o: number) => JSON.stringify({ input_tokens: i, output_tokens: o, total_tokens: i + o });
    const spans = [
      span('root', null, {}),
      span('agent', 'root', { 'mlflow.chat.tokenUsage': usage(100, 10) }),
      span('inner', 'agent', { 'mlflow.chat.tokenUsage': usage(60, 6) }),
      span('llm', 'root', { 'mlflow.chat.tokenUsage': usage(5, 1), 'mlflow.llm.cost': JSON.stringify({ input_cost: 0.5, output_cost: 0.5, total_cost: 1 }) }),
      // A parent cycle no root reaches is left out, not looped over.
      span('x', 'y', {}), span('y', 'x', { 'mlflow.chat.tokenUsage': usage(1000, 1000) }),
    ];
    expect(usageMetadata(spans)).toEqual([
      ['mlflow.trace.tokenUsage', '{"input_tokens": 105, "output_tokens": 11, "total_tokens": 116}'],
      ['mlflow.trace.cost', '{"input_cost": 0.5, "output_cost": 0.5, "total_cost": 1.0}'],
    ]);
    expect(usageMetadata([span('a', null, { 'mlflow.chat.tokenUsage': 'not json' })])).toEqual([]);
  });
});

describe('tags and metadata from an OTLP export', () => {
  const root = (attributes: Record<string, string>, parent: string | null = null): SpanRecord => ({
    trace_id: 't', span_id: 'r', parent_span_id: parent, name: 'r', kind: 'SPAN_KIND_INTERNAL', start_time_unix_nano: '1', end_time_unix_nano: '2',
    events: [], status: { code: 'STATUS_CODE_OK', message: '' }, attributes,
  });

  it("tags a trace with its resource's attributes, but the SDK's own and MLflow's namespace", () => {
    expect(resourceTags({ 'service.name': 'svc', 'telemetry.sdk.name': 'opentelemetry', 'mlflow.artifactLocation': 'x', replicas: 3, zones: ['a', 'b'], bad: 'a\u0000b' }))
      .toEqual([['service.name', 'svc'], ['replicas', '3'], ['zones', '["a", "b"]']]);
  });

  it("takes the root span's mlflow.traceTag.* attributes as tags, not the name or managed tags", () => {
    const attrs = { 'mlflow.traceTag.env': '"prod"', 'mlflow.traceTag.mlflow.traceName': '"x"', 'mlflow.traceTag.mlflow.artifactLocation': '"y"', other: '"z"' };
    expect(rootSpanTags(root(attrs))).toEqual([['env', 'prod']]);
    expect(rootSpanTags(root(attrs, 'p'))).toEqual([]);
  });

  it('names the session and user the spans carry, unless the trace has them', () => {
    const spans = [root({ 'gen_ai.conversation.id': '"c-1"' }), root({ 'user.id': '"ada"', 'session.id': '"s-2"' })];
    expect(sessionAndUser(spans, () => false)).toEqual([['mlflow.trace.session', 'c-1'], ['mlflow.trace.user', 'ada']]);
    expect(sessionAndUser(spans, (k) => k === 'mlflow.trace.session')).toEqual([['mlflow.trace.user', 'ada']]);
  });
});
