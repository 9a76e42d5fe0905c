// What the mlflow client records about LLM calls, read back for display: token counts (a trace's
// total in its metadata, an LLM span's own in an attribute) and chat messages in the shapes the
// common SDKs send and answer (OpenAI-style `messages` and `choices`, Anthropic-style content
// blocks). Anything else is shown as JSON, so a shape not known here loses nothing.

export interface TokenUsage {
  input?: number;
  output?: number;
  total?: number;
}

/** Trace metadata and span attribute keys the client writes token counts under (mlflow/tracing/constant.py). */
export const TRACE_TOKEN_USAGE = 'mlflow.trace.tokenUsage';
export const SPAN_TOKEN_USAGE = 'mlflow.chat.tokenUsage';
export const SPAN_MODEL = 'mlflow.llm.model';

/**
 * A JSON value the client stored as text (span inputs, outputs and attributes are JSON-dumped):
 * the parsed value, or the text itself when it is not JSON.
 */
export function parsedJson(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const t = value.trim();
  if (!t || !'{["'.includes(t[0])) return value;
  try {
    return JSON.parse(t);
  } catch {
    return value;
  }
}

const count = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) && x >= 0 ? x : undefined);

/** `{"input_tokens": …, "output_tokens": …, "total_tokens": …}`, as an object or its JSON text. */
export function tokenUsage(value: unknown): TokenUsage | undefined {
  const v = parsedJson(value);
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const r = v as Record<string, unknown>;
  const u: TokenUsage = { input: count(r.input_tokens), output: count(r.output_tokens), total: count(r.total_tokens) };
  if (u.total === undefined && u.input !== undefined && u.output !== undefined) u.total = u.input + u.output;
  return u.input === undefined && u.output === undefined && u.total === undefined ? undefined : u;
}

export function fmtTokens(u: TokenUsage): string {
  const parts = [u.input !== undefined && `${u.input.toLocaleString()} in`, u.output !== undefined && `${u.output.toLocaleString()} out`].filter(Boolean);
  return parts.length ? `${(u.total ?? 0).toLocaleString()} (${parts.join(', ')})` : (u.total ?? 0).toLocaleString();
}

export interface ChatMessage {
  role: string;
  text: string;
}

/** A tool call as one line: its name and its arguments (JSON text as sent, or an object written as JSON). */
const toolCall = (name: unknown, args: unknown) => `→ ${String(name ?? 'tool')}(${typeof args === 'string' ? args : JSON.stringify(args ?? {})})`;

/** A message's content as text: a string, or its blocks (text as is, tool calls and others named). */
function contentText(content: unknown): string {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return JSON.stringify(content, null, 2);
  return content
    .map((part) => {
      if (typeof part === 'string') return part;
      if (!part || typeof part !== 'object') return String(part);
      const p = part as Record<string, unknown>;
      if (typeof p.text === 'string') return p.text;
      if (p.type === 'tool_use') return toolCall(p.name, p.input);
      if (p.type === 'tool_result') return contentText(p.content);
      return `[${String(p.type ?? 'part')}]`;
    })
    .join('\n');
}

function message(m: unknown): ChatMessage | undefined {
  if (!m || typeof m !== 'object' || Array.isArray(m)) return undefined;
  const r = m as Record<string, unknown>;
  if (typeof r.role !== 'string' || !('content' in r || 'tool_calls' in r)) return undefined;
  const calls = Array.isArray(r.tool_calls)
    ? r.tool_calls.map((c) => {
        const f = (c as { function?: { name?: unknown; arguments?: unknown } })?.function;
        return toolCall(f?.name, f?.arguments);
      })
    : [];
  return { role: r.role, text: [contentText(r.content), ...calls].filter(Boolean).join('\n') };
}

function messages(list: unknown): ChatMessage[] | undefined {
  if (!Array.isArray(list) || list.length === 0) return undefined;
  const out = list.map(message);
  return out.every((m): m is ChatMessage => m !== undefined) ? out : undefined;
}

/**
 * The chat a span's inputs or outputs hold, if they are one: `{messages: […]}` (a request, with an
 * Anthropic-style `system` put first), `{choices: [{message}]}` (an OpenAI-style answer), a single
 * `{role, content}` message (an Anthropic-style answer), or a bare list of messages.
 */
export function chatOf(value: unknown): ChatMessage[] | undefined {
  const v = parsedJson(value);
  if (Array.isArray(v)) return messages(v);
  if (!v || typeof v !== 'object') return undefined;
  const r = v as Record<string, unknown>;
  const asked = messages(r.messages);
  if (asked) return typeof r.system === 'string' && r.system ? [{ role: 'system', text: r.system }, ...asked] : asked;
  if (Array.isArray(r.choices)) return messages(r.choices.map((c) => (c as { message?: unknown })?.message));
  const one = message(r);
  return one ? [one] : undefined;
}
