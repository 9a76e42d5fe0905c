import { pythonJson } from './span-rows.js';

// Spans from OpenTelemetry instrumentations that are not MLflow's (OpenInference, the OTel GenAI
// semantic conventions, Traceloop/OpenLLMetry) name their kind, inputs, outputs, model and token
// counts in their own attributes. MLflow's server rewrites them into its own attributes when it
// stores spans (`translate_span_when_storing`), so its UI shows their inputs and outputs, span
// types, chat token usage and model; Cairn does the same for spans it receives by OTLP, for these
// three conventions (MLflow also reads several vendors' private ones, and prices tokens with
// LiteLLM's table, which Cairn has not). An attribute the span already has is never replaced.
//
// Attribute values here are JSON text (otlp.ts encodes every OTLP value so, as MLflow does).

type Attrs = Record<string, string>;
type Key = string | RegExp;

interface Convention {
  kindKey: string;
  kinds: Readonly<Record<string, string>>;
  inputTokens?: string;
  outputTokens?: string;
  totalTokens?: string;
  cacheRead?: string;
  cacheWrite?: readonly string[];
  inputs: readonly Key[];
  outputs: readonly Key[];
  model: readonly string[];
  provider?: string;
}

// The conventions in the order MLflow tries them: the first that has a value gives it.
const CONVENTIONS: readonly Convention[] = [
  {
    // OpenInference (Arize Phoenix and its instrumentations).
    kindKey: 'openinference.span.kind',
    kinds: {
      TOOL: 'TOOL', CHAIN: 'CHAIN', LLM: 'LLM', RETRIEVER: 'RETRIEVER', EMBEDDING: 'EMBEDDING', AGENT: 'AGENT',
      RERANKER: 'RERANKER', UNKNOWN: 'UNKNOWN', GUARDRAIL: 'GUARDRAIL', EVALUATOR: 'EVALUATOR',
    },
    inputTokens: 'llm.token_count.prompt',
    outputTokens: 'llm.token_count.completion',
    totalTokens: 'llm.token_count.total',
    cacheRead: 'llm.token_count.prompt_details.cache_read',
    cacheWrite: ['llm.token_count.prompt_details.cache_write'],
    inputs: ['input.value'],
    outputs: ['output.value'],
    model: ['llm.response.model_name', 'llm.model_name', 'llm.request.model_name', 'embedding.model_name'],
    provider: 'llm.provider',
  },
  {
    // OpenTelemetry's GenAI semantic conventions (no total: input + output).
    kindKey: 'gen_ai.operation.name',
    kinds: {
      chat: 'CHAT_MODEL', create_agent: 'AGENT', embeddings: 'EMBEDDING', execute_tool: 'TOOL',
      generate_content: 'LLM', invoke_agent: 'AGENT', text_completion: 'LLM', response: 'LLM',
    },
    inputTokens: 'gen_ai.usage.input_tokens',
    outputTokens: 'gen_ai.usage.output_tokens',
    cacheRead: 'gen_ai.usage.cache_read.input_tokens',
    // The current name, then the previous registry's.
    cacheWrite: ['gen_ai.usage.cache_write.input_tokens', 'gen_ai.usage.cache_creation.input_tokens'],
    inputs: ['gen_ai.input.messages', 'gen_ai.tool.call.arguments'],
    outputs: ['gen_ai.output.messages', 'gen_ai.tool.call.result'],
    model: ['gen_ai.response.model', 'gen_ai.request.model'],
    provider: 'gen_ai.provider.name',
  },
  {
    // Traceloop / OpenLLMetry.
    kindKey: 'traceloop.span.kind',
    kinds: { workflow: 'WORKFLOW', task: 'TASK', agent: 'AGENT', tool: 'TOOL', unknown: 'UNKNOWN' },
    inputTokens: 'gen_ai.usage.prompt_tokens',
    outputTokens: 'gen_ai.usage.completion_tokens',
    totalTokens: 'llm.usage.total_tokens',
    inputs: ['traceloop.entity.input', /^gen_ai\.prompt\.\d+\.content/, /^gen_ai\.completion\.\d+\.tool_calls\.\d+\.arguments/],
    outputs: ['traceloop.entity.output', /^gen_ai\.completion\.\d+\.content/],
    model: [],
    provider: 'gen_ai.system',
  },
];

const decode = (text: string | undefined): unknown => {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

/** Python's truth of a value: what MLflow's translators take as "has a value". */
const truthy = (v: unknown) =>
  v !== null && v !== undefined && v !== false && v !== 0 && v !== '' &&
  !(Array.isArray(v) && v.length === 0) && !(typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0);

/** The JSON text of the first key with a value; a pattern matches attribute names in their order. */
function firstValue(attrs: Attrs, keys: readonly Key[]): string | undefined {
  for (const key of keys) {
    const names = typeof key === 'string' ? [key] : Object.keys(attrs).filter((k) => key.test(k));
    for (const name of names) if (truthy(decode(attrs[name]))) return attrs[name];
  }
  return undefined;
}

/** An integer count: a number, or a string of digits (an instrumentation that sends text). */
function count(attrs: Attrs, key: string | undefined): number | undefined {
  if (!key || attrs[key] === undefined) return undefined;
  let v = decode(attrs[key]);
  if (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v)) v = Number(v);
  return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
}

function tokenUsage(attrs: Attrs): Record<string, number> | undefined {
  for (const c of CONVENTIONS) {
    const input = count(attrs, c.inputTokens);
    const output = count(attrs, c.outputTokens);
    let total = count(attrs, c.totalTokens);
    if (total === undefined && input !== undefined && output !== undefined) total = input + output;
    if (input === undefined && output === undefined && total === undefined) continue;
    const usage: Record<string, number> = {};
    if (input !== undefined) usage.input_tokens = input;
    if (output !== undefined) usage.output_tokens = output;
    if (total !== undefined) usage.total_tokens = total;
    const read = count(attrs, c.cacheRead);
    if (read !== undefined) usage.cache_read_input_tokens = read;
    const write = (c.cacheWrite ?? []).map((k) => count(attrs, k)).find((n) => n !== undefined);
    if (write !== undefined) usage.cache_creation_input_tokens = write;
    return usage;
  }
  return undefined;
}

/** A `model` named in the span's inputs or outputs (an LLM call's request or response). */
function modelIn(text: string | undefined): string | undefined {
  // Most spans name no model: the inputs, which may be large, are parsed only when they might.
  if (text === undefined || !text.includes('model')) return undefined;
  const v = decode(text);
  const model = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>).model : undefined;
  return typeof model === 'string' && model ? model : undefined;
}

/** Adds MLflow's attributes a span from another convention lacks (see above). Changes `attrs`. */
export function translateOtelAttributes(attrs: Attrs): void {
  const type = decode(attrs['mlflow.spanType']);
  if (type === undefined || type === null || type === 'UNKNOWN') {
    for (const c of CONVENTIONS) {
      const kind = decode(attrs[c.kindKey]);
      const mapped = typeof kind === 'string' && Object.prototype.hasOwnProperty.call(c.kinds, kind) ? c.kinds[kind] : undefined;
      if (mapped) {
        attrs['mlflow.spanType'] = JSON.stringify(mapped);
        break;
      }
    }
  }
  if (attrs['mlflow.spanInputs'] === undefined) {
    const inputs = CONVENTIONS.map((c) => firstValue(attrs, c.inputs)).find((v) => v !== undefined);
    if (inputs !== undefined) attrs['mlflow.spanInputs'] = inputs;
  }
  if (attrs['mlflow.spanOutputs'] === undefined) {
    const outputs = CONVENTIONS.map((c) => firstValue(attrs, c.outputs)).find((v) => v !== undefined);
    if (outputs !== undefined) attrs['mlflow.spanOutputs'] = outputs;
  }
  if (attrs['mlflow.chat.tokenUsage'] === undefined) {
    const usage = tokenUsage(attrs);
    if (usage) attrs['mlflow.chat.tokenUsage'] = pythonJson(usage);
  }
  if (attrs['mlflow.llm.model'] === undefined) {
    const named = CONVENTIONS.map((c) => firstValue(attrs, c.model)).find((v) => v !== undefined);
    const model = named !== undefined ? decode(named) : modelIn(attrs['mlflow.spanInputs']) ?? modelIn(attrs['mlflow.spanOutputs']);
    if (typeof model === 'string' && model) attrs['mlflow.llm.model'] = JSON.stringify(model);
  }
  if (attrs['mlflow.llm.provider'] === undefined) {
    const named = CONVENTIONS.map((c) => (c.provider ? firstValue(attrs, [c.provider]) : undefined)).find((v) => v !== undefined);
    const provider = decode(named);
    if (typeof provider === 'string' && provider) attrs['mlflow.llm.provider'] = JSON.stringify(provider);
  }
}
