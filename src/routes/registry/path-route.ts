import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { assertAccess, authorize, principalOf, type Access } from '../../auth/policy.js';
import type { Deps } from '../../deps.js';
import { MlflowError } from '../../errors.js';
import { errorSchema, guard, parseInput, requestObject, type Router } from '../define.js';

// defineRoute for the MLflow 3 routes with path parameters (`/mlflow/logged-models/{model_id}`): the
// same /api + /ajax-api registration, parsing and OpenAPI documentation, with the path parameters
// merged into the input (they win over body fields of the same name, as in MLflow). A trailing
// `{name+}` parameter takes the rest of the path, slashes and line breaks included (tag keys arrive
// unencoded; `.+` stopped at a decoded CR, so the request fell through to the 501 of its family).

type Method = 'get' | 'post' | 'patch' | 'delete';

export interface PathRouteDef<S extends z.ZodType, R> {
  method: Method;
  path: string;
  /** API version of the prefix; MLflow 3's trace routes live under /api/3.0. */
  version?: '2.0' | '3.0';
  summary: string;
  tag: string;
  input: S;
  output: z.ZodType;
  /** Who may call it (see src/auth/policy.ts); required. */
  access: Access;
  handle: (deps: Deps, input: z.output<S>, c: Context) => Promise<R> | R;
}

const MAX_BODY = 16 * 1024 * 1024;

export function definePathRoute<S extends z.ZodType, R>(router: Router, def: PathRouteDef<S, R>): void {
  const { app, deps } = router;
  const names = [...def.path.matchAll(/\{(\w+)\+?\}/g)].map((m) => m[1]);
  const version = def.version ?? '2.0';
  const docPath = `/api/${version}${def.path.replace(/\{(\w+)\+\}/g, '{$1}')}`;
  const honoPath = def.path.replace(/\{(\w+)\+\}/g, ':$1{[\\s\\S]+}').replace(/\{(\w+)\}/g, ':$1');
  const isQuery = def.method === 'get';
  assertAccess(def.access, `${def.method.toUpperCase()} ${docPath}`);
  const params = z.object(Object.fromEntries(names.map((n) => [n, z.string()])));
  // The path parameters are part of the parsed input, but documented as path parameters only.
  const documented = def.input instanceof z.ZodObject ? def.input.omit(Object.fromEntries(names.map((n) => [n, true])) as never) : def.input;
  app.openAPIRegistry.registerPath({
    method: def.method,
    path: docPath,
    summary: def.summary,
    tags: [def.tag],
    request: isQuery
      ? { params, query: documented as never }
      : { params, body: { content: { 'application/json': { schema: documented } } } },
    responses: {
      200: { description: 'OK', content: { 'application/json': { schema: def.output } } },
      default: { description: 'MLflow error', content: { 'application/json': { schema: errorSchema } } },
    },
  });
  const handler = async (c: Context) => {
    const raw = await requestObject(c, isQuery, MAX_BODY);
    if (raw instanceof Response) return raw;
    for (const n of names) raw[n] = c.req.param(n);
    const input = parseInput(def.input, raw);
    await authorize(deps, principalOf(c), def.access, input as Record<string, unknown>);
    const result = await def.handle(deps, input, c);
    return result instanceof Response ? result : c.json(result ?? {});
  };
  router.guarded.add(handler);
  for (const prefix of [`/api/${version}`, `/ajax-api/${version}`]) {
    if (isQuery) app.on('GET', `${prefix}${honoPath}`, handler);
    else app.on(def.method.toUpperCase(), `${prefix}${honoPath}`, handler);
  }
}

/**
 * Flask answers a wrong method on a known path with 405; registered after a path's methods, this
 * catches the rest (the router's knownPaths only holds literal paths).
 */
export function methodNotAllowed(router: Router, path: string): void {
  const honoPath = path.replace(/\{(\w+)\+\}/g, ':$1{[\\s\\S]+}').replace(/\{(\w+)\}/g, ':$1');
  for (const prefix of ['/api/2.0', '/ajax-api/2.0']) {
    router.app.all(
      `${prefix}${honoPath}`,
      guard(router, 'public', (c) => {
        throw new MlflowError('METHOD_NOT_ALLOWED', `Method ${c.req.method} not allowed on ${c.req.path}`);
      }),
    );
  }
}

