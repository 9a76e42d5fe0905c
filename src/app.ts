import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { randomUUID } from 'node:crypto';
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
import { unimplementedFamily } from './routes/unimplemented.js';
import { uiStaticRoutes } from './routes/ui-static.js';

export const OPENAPI_INFO = {
  openapi: '3.0.3',
  info: {
    title: 'Cairn',
    version: '0.1.0',
    description:
      "MLflow's REST API (tracking, model registry, proxied artifacts) and the W&B client's wire protocol " +
      '(`POST /graphql` for the GraphQL API the wandb client and its public API use, `/files/...` file_stream ' +
      'and upload URLs), on Postgres. `/health` is liveness, `/ready` readiness.',
  },
};

export function createApp(deps: Deps): OpenAPIHono {
  const app = new OpenAPIHono();
  const router: Router = { app, deps, knownPaths: new Set(), guarded: new WeakSet() };
  app.use('*', browserOriginProtection(() => deps.config?.browserOrigin));
  app.use('*', authentication(deps));
  healthRoutes(router);
  mlflowTrackingRoutes(router);
  artifactRoutes(router);
  registryRoutes(router);
  wandbRoutes(router);
  uiRoutes(router);
  authRoutes(router);
  app.get('/openapi.json', guard(router, 'public', (c) => c.json(app.getOpenAPIDocument(OPENAPI_INFO))));
  uiStaticRoutes(router);
  assertEveryRouteGuarded(router);

  app.notFound((c) => {
    const path = c.req.path;
    // Flask answers a wrong method on a known path with 405; the client maps it to an error, not a fallback.
    if (router.knownPaths.has(path)) return errorResponse(c, 405, 'ENDPOINT_NOT_FOUND', `Method ${c.req.method} not allowed on ${path}`);
    const family = unimplementedFamily(path);
    if (family) return errorResponse(c, 501, 'NOT_IMPLEMENTED', `Cairn does not implement ${family} yet: ${c.req.method} ${path}`);
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
    if (mapped) return errorResponse(c, mapped.status, mapped.code, mapped.message);
    const requestId = randomUUID();
    deps.log.error('unhandled error', { requestId, path: c.req.path, error: String((err as Error)?.stack ?? err) });
    return errorResponse(c, 500, 'INTERNAL_ERROR', `Internal error, request id ${requestId}`);
  });
  return app;
}

function errorResponse(c: Context, status: number, code: ErrorCode, message: string) {
  if (status === 503) c.header('Retry-After', RETRY_AFTER_SECONDS);
  return c.json(errorBody(code, message), status as 400);
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
