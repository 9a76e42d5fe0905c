import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from '@hono/zod-openapi';
import type { Context, Handler } from 'hono';
import { assertAccess, authorize, principalOf, type Access } from '../auth/policy.js';
import type { Deps } from '../deps.js';
import { invalidParam } from '../errors.js';
import { decodeRequestObject, requestSource } from '../lib/json-body.js';
import { literalAt, pythonNumber } from '../lib/json-literal.js';
import { readBodyOrRefuse } from '../lib/request-body.js';
import { checkStorableJson } from '../lib/storable-text.js';

type Method = 'get' | 'post' | 'patch' | 'delete' | 'put';

/** What a route family registers into: the app, its dependencies, and the paths it knows (for 405s). */
export interface Router {
  app: OpenAPIHono;
  deps: Deps;
  knownPaths: Set<string>;
  /** Handlers registered with an access policy; app.ts refuses to start with any other endpoint. */
  guarded: WeakSet<Handler>;
}

/**
 * Marks a handler registered outside defineRoute (raw Hono routes: artifacts, W&B, health) as
 * carrying `access`, enforced before it runs. `resourceOf` names what the call is about: the
 * artifact path (a string) for `artifact:*`, or input fields (e.g. `{ experiment_name }`).
 */
export function guard(
  router: Router,
  access: Access,
  handler: Handler,
  resourceOf?: (c: Context) => string | Record<string, unknown>,
): Handler {
  assertAccess(access, 'registered with guard()');
  const wrapped: Handler = async (c, next) => {
    const resource = resourceOf ? resourceOf(c) : {};
    if (typeof resource === 'string') await authorize(router.deps, principalOf(c), access, {}, resource);
    else await authorize(router.deps, principalOf(c), access, resource);
    return handler(c, next);
  };
  router.guarded.add(wrapped);
  return wrapped;
}

/**
 * Start-up check (fail closed): every registered endpoint must have come through defineRoute,
 * definePathRoute or guard(). Global middleware (`app.use('*')`) is not an endpoint.
 */
export function assertEveryRouteGuarded(router: Router): void {
  const groups = new Map<string, boolean>();
  for (const r of router.app.routes) {
    if (r.method === 'ALL' && (r.path === '/*' || r.path === '*')) continue;
    const id = `${r.method} ${r.path}`;
    groups.set(id, (groups.get(id) ?? false) || router.guarded.has(r.handler));
  }
  const open = [...groups].filter(([, ok]) => !ok).map(([id]) => id);
  if (open.length) throw new Error(`routes without an access policy: ${open.join(', ')}`);
}

export interface RouteDef<S extends z.ZodType, R> {
  method: Method;
  /** Path after the version prefix, e.g. `/mlflow/runs/create`. */
  path: string;
  version?: '2.0' | '3.0';
  summary: string;
  tag: string;
  /** Query fields for GET, JSON body fields otherwise. */
  input: S;
  output: z.ZodType;
  /** Largest accepted body in bytes. */
  maxBodyBytes?: number;
  /** Who may call it (see src/auth/policy.ts); required, checked at start-up. */
  access: Access;
  handle: (deps: Deps, input: z.output<S>, c: Context) => Promise<R> | R;
}

const DEFAULT_MAX_BODY = 16 * 1024 * 1024;
export const errorSchema = z
  .object({ error_code: z.string(), message: z.string(), sqlstate: z.string().optional(), error_class: z.string().optional() })
  .openapi('Error');

/**
 * Registers one MLflow RPC under /api/<v> and /ajax-api/<v> and documents it in the OpenAPI registry.
 * Parsing is ours rather than the zod-openapi validator's: MLflow reads bodies whatever the
 * Content-Type, treats an empty body as {}, and words its errors in a way the client's users know.
 */
export function defineRoute<S extends z.ZodType, R>(router: Router, def: RouteDef<S, R>): void {
  const { app, deps } = router;
  const version = def.version ?? '2.0';
  const apiPath = `/api/${version}${def.path}`;
  const ajaxPath = `/ajax-api/${version}${def.path}`;
  assertAccess(def.access, `${def.method.toUpperCase()} ${apiPath}`);
  router.knownPaths.add(apiPath).add(ajaxPath);
  const isQuery = def.method === 'get';
  app.openAPIRegistry.registerPath({
    method: def.method,
    path: apiPath,
    summary: def.summary,
    tags: [def.tag],
    request: isQuery
      ? { query: def.input as never }
      : { body: { content: { 'application/json': { schema: def.input } } } },
    responses: {
      200: { description: 'OK', content: { 'application/json': { schema: def.output } } },
      default: { description: 'MLflow error', content: { 'application/json': { schema: errorSchema } } },
    },
  });
  const maxBytes = def.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const handler = async (c: Context) => {
    const raw = await requestObject(c, isQuery, maxBytes);
    if (raw instanceof Response) return raw;
    const input = parseInput(def.input, raw);
    await authorize(deps, principalOf(c), def.access, input as Record<string, unknown>);
    const result = await def.handle(deps, input, c);
    return result instanceof Response ? result : c.json(result ?? {});
  };
  router.guarded.add(handler);
  if (isQuery) app.on('GET', [apiPath, ajaxPath], handler);
  else app.on(def.method.toUpperCase(), [apiPath, ajaxPath], handler);
}

/**
 * A call's fields: the query string of a GET, else the JSON body (refused past `maxBytes` with the
 * 400 to answer instead). A GET without a query string is read from its body, as MLflow's server
 * does: mlflow-export-import sends `registered-models/get` that way.
 */
export async function requestObject(c: Context, isQuery: boolean, maxBytes: number): Promise<Record<string, unknown> | Response> {
  if (isQuery && hasQueryString(c)) return queryObject(c);
  const text = await readBodyOrRefuse(c, maxBytes);
  return text instanceof Response ? text : decodeRequestObject(text);
}

function hasQueryString(c: Context): boolean {
  const url = c.req.url;
  const q = url.indexOf('?');
  return q >= 0 && q < url.length - 1;
}

function queryObject(c: Context): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, vs] of Object.entries(c.req.queries())) out[k] = vs.length === 1 ? vs[0] : vs;
  checkStorableJson(out, '');
  return out;
}

// Inputs naming a run (withRunId): MLflow checks run_id before every other field, so a call missing
// both run_id and key is answered about run_id.
const runIdFirst = new WeakSet<z.ZodType>();
export function markRunIdFirst<S extends z.ZodType>(schema: S): S {
  runIdFirst.add(schema);
  return schema;
}

export function parseInput<S extends z.ZodType>(schema: S, raw: Record<string, unknown>): z.output<S> {
  if (runIdFirst.has(schema) && !raw.run_id && !raw.run_uuid) {
    throw invalidParam(describeIssue({ code: 'custom', path: ['run_id'], message: 'Missing value', input: undefined } as z.core.$ZodIssue, raw));
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw invalidParam(describeIssue(parsed.error.issues[0], raw));
}

// MLflow's own wording, which its tests and users grep for.
function describeIssue(issue: z.core.$ZodIssue, raw: Record<string, unknown>): string {
  // MLflow's path form: `metrics[0].timestamp`.
  const name = issue.path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i ? `.${String(k)}` : String(k))).join('') || 'body';
  const value = issue.path.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown> | undefined)?.[k as PropertyKey], raw);
  // MLflow's required check: an empty repeated field is as missing as an absent one.
  if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) {
    return `Missing value for required parameter '${name}'. See the API docs for more information about request parameters.`;
  }
  const shown = asPythonSees(value, raw, issue.path);
  if (issue.code === 'custom' || issue.code === 'too_big' || issue.code === 'too_small') {
    return `Invalid value ${shown.text} for parameter '${name}' supplied: ${issue.message}`;
  }
  return (
    `Invalid value ${shown.text} for parameter '${name}' supplied:  Hint: Value was of type '${shown.type}'. ` +
    'See the API docs for more information about request parameters.'
  );
}

// A number as the client wrote it (9.0 is a float to MLflow, and printed so), read back from the
// body's text; a long integer that travelled as a string is still an int there.
function asPythonSees(value: unknown, raw: Record<string, unknown>, path: readonly PropertyKey[]): { text: string; type: string } {
  if (typeof value === 'number' || typeof value === 'string') {
    const source = requestSource(raw);
    const number = source === undefined ? undefined : pythonNumber(literalAt(source, path));
    if (number) return number;
  }
  return { text: shortJson(value), type: pyType(value) };
}

function shortJson(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 200 ? `${s.slice(0, 200)}...` : s;
}

function pyType(v: unknown): string {
  if (typeof v === 'string') return 'str';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (Array.isArray(v)) return 'list';
  return 'dict';
}
