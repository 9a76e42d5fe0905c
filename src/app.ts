import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { authentication } from './auth/authenticate.js';
import { classifyDbError } from './db/faults.js';
import { authRoutes } from './routes/auth/index.js';
import type { Deps } from './deps.js';
import { errorBody, MlflowError, RETRY_AFTER_SECONDS, type ErrorCode } from './errors.js';
import { assertEveryRouteGuarded, guard, type Router } from './routes/define.js';
import { browserOriginProtection } from './http/browser-origin.js';
import { healthRoutes } from './routes/health.js';
import { artifactRoutes } from './routes/mlflow-artifacts/index.js';
import { mlflowTrackingRoutes } from './routes/mlflow/index.js';
import { registryRoutes } from './routes/registry/index.js';
import { uiRoutes } from './routes/ui/index.js';
import { wandbRoutes } from './routes/wandb/index.js';
import { unimplementedFamily, unimplementedMessage } from './routes/unimplemented.js';
import { uiStaticRoutes } from './routes/ui-static.js';
import { metricsRoutes } from './routes/metrics.js';
import { requestObserver } from './observability/request-observer.js';
import { routeLabel } from './observability/route-label.js';

const API_METHODS = new Set(['GET', 'POST', 'PATCH', 'DELETE']);

/** A matcher for each API route with path parameters (`/traces/:trace_id/tags`), middleware left out. */
function templatedRoutes(routes: { method: string; path: string }[]): RegExp[] {
  const paths = new Set(routes.filter((r) => r.method !== 'ALL' && r.path.includes('/:') && isApiRoute(r.path)).map((r) => r.path));
  return [...paths].map((p) => {
    const source = p
      .split(/(:\w+(?:\{[^}]+\})?)/)
      .map((part) => {
        const param = /^:\w+(?:\{([^}]+)\})?$/.exec(part);
        if (param) return param[1] ? `(?:${param[1]})` : '[^/]+';
        return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('');
    return new RegExp(`^${source}$`);
  });
}

const isApiRoute = (p: string) => /^\/(ajax-)?api\//.test(p);

export const OPENAPI_INFO = {
  openapi: '3.0.3',
  info: {
    title: 'Cairn',
    version: '0.1.0',
    description:
      "MLflow's REST API (tracking, model registry, logged models, proxied artifacts) and the W&B client's wire " +
      'protocol, on Postgres. `POST /graphql` is one endpoint for two GraphQL schemas: a document whose root ' +
      "fields are MLflow's (`mlflowGetRun`, `mlflowSearchRuns`, ... as MLflow's web UI sends them) runs against " +
      "MLflow's schema, any other against the W&B schema the wandb client and its public API (`wandb.Api()`) use. " +
      'The W&B run files go through `/files/{entity}/{project}/{run}/file_stream` and one-use upload URLs. ' +
      '`/health` is liveness, `/ready` readiness, `/metrics` Prometheus metrics (with --expose-prometheus). ' +
      'Responses carry `X-Request-Id` (the caller\'s, if it sent one), which the server\'s logs and 500 messages quote.',
  },
};

export function createApp(deps: Deps): OpenAPIHono {
  const app = new OpenAPIHono();
  const router: Router = { app, deps, knownPaths: new Set(), guarded: new WeakSet() };
  // First, so every answer (a refusal by the origin checks or auth included) is counted and logged.
  if (deps.log) app.use('*', requestObserver({ log: deps.log, metrics: deps.metrics, accessLog: deps.config?.accessLog ?? false }));
  app.use('*', browserOriginProtection(() => deps.config?.browserOrigin));
  app.use('*', authentication(deps));
  healthRoutes(router);
  mlflowTrackingRoutes(router);
  artifactRoutes(router);
  registryRoutes(router);
  wandbRoutes(router);
  uiRoutes(router);
  authRoutes(router);
  metricsRoutes(router);
  app.get('/openapi.json', guard(router, 'public', (c) => c.json(app.getOpenAPIDocument(OPENAPI_INFO))));
  uiStaticRoutes(router);
  assertEveryRouteGuarded(router);

  const templated = templatedRoutes(app.routes);
  app.notFound((c) => {
    const path = c.req.path;
    // Flask answers a wrong method on a known path with 405; the client maps it to an error, not a fallback.
    if (router.knownPaths.has(path)) return errorResponse(c, 405, 'ENDPOINT_NOT_FOUND', `Method ${c.req.method} not allowed on ${path}`);
    // A family not built yet answers its calls with 501. Only the methods MLflow's REST API uses are
    // such calls: PUT (artifact uploads only), TRACE or OPTIONS on these paths are a client's mistake.
    // A path with parameters that a route of another method serves is a 405 as a literal path is.
    const family = unimplementedFamily(path);
    const servedByAnother = templated.some((re) => re.test(path));
    if (family && API_METHODS.has(c.req.method) && !servedByAnother) {
      return errorResponse(c, 501, 'NOT_IMPLEMENTED', unimplementedMessage(family, `${c.req.method} ${path}`));
    }
    if (family || servedByAnother) return errorResponse(c, 405, 'ENDPOINT_NOT_FOUND', `Method ${c.req.method} not allowed on ${path}`);
    return errorResponse(c, 404, 'ENDPOINT_NOT_FOUND', `No API endpoint at ${c.req.method} ${path}`);
  });

  app.onError((err, c) => {
    if (err instanceof MlflowError) {
      // The client asks for credentials again only when told how (HTTP Basic), as from MLflow.
      if (err.code === 'UNAUTHENTICATED') c.header('WWW-Authenticate', 'Basic realm="mlflow"');
      return errorResponse(c, err.status, err.code, err.message);
    }
    if (err instanceof HTTPException && err.status < 500) {
      return errorResponse(c, err.status, 'INVALID_PARAMETER_VALUE', err.message || 'Bad request');
    }
    const mapped = fromDatabaseError(err);
    if (mapped) {
      deps.telemetry?.dbFault(mapped.code === 'TEMPORARILY_UNAVAILABLE' ? 'unavailable' : 'client');
      return errorResponse(c, mapped.status, mapped.code, mapped.message);
    }
    const requestId = deps.log.requestId() ?? 'unknown';
    deps.log.error('unhandled error', { path: c.req.path, error: String((err as Error)?.stack ?? err) });
    deps.metrics?.exception(c.req.method, routeLabel(c));
    return errorResponse(c, 500, 'INTERNAL_ERROR', `Internal error, request id ${requestId}`);
  });

  function errorResponse(c: Context, status: number, code: ErrorCode, message: string) {
    if (status === 503) c.header('Retry-After', RETRY_AFTER_SECONDS);
    deps.metrics?.errorAnswered(code);
    return c.json(errorBody(code, message), status as 400);
  }
  return app;
}

// Postgres rejects some values only the client could have sent (a bigint out of range, a NUL byte in
// text): those are the client's errors, not ours. A lost, refused, exhausted or frozen database is a
// 503 worth a retry. A unique violation is two clients racing for one name: the loser's name is taken.
function fromDatabaseError(err: unknown): { status: number; code: ErrorCode; message: string } | undefined {
  const fault = classifyDbError(err);
  if (!fault) return undefined;
  if (fault.kind === 'client') return { status: 400, code: 'INVALID_PARAMETER_VALUE', message: `Invalid value: ${fault.message}` };
  if (fault.kind === 'exists') return { status: 400, code: 'RESOURCE_ALREADY_EXISTS', message: `Resource already exists: ${fault.message}` };
  return { status: 503, code: 'TEMPORARILY_UNAVAILABLE', message: `The database is temporarily unavailable: ${fault.message}` };
}
