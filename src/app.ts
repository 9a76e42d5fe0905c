import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { randomUUID } from 'node:crypto';
import type { Deps } from './deps.js';
import { MlflowError, type ErrorCode } from './errors.js';
import type { Router } from './routes/define.js';
import { browserOriginProtection } from './http/browser-origin.js';
import { healthRoutes } from './routes/health.js';
import { artifactRoutes } from './routes/mlflow-artifacts/index.js';
import { mlflowTrackingRoutes } from './routes/mlflow/index.js';
import { registryRoutes } from './routes/registry/index.js';
import { wandbRoutes } from './routes/wandb/index.js';
import { unimplementedFamily } from './routes/unimplemented.js';

export const OPENAPI_INFO = {
  openapi: '3.0.3',
  info: {
    title: 'Cairn',
    version: '0.1.0',
    description: "MLflow's REST tracking API (and, later, the W&B wire protocol) on Postgres.",
  },
};

export function createApp(deps: Deps): OpenAPIHono {
  const app = new OpenAPIHono();
  const router: Router = { app, deps, knownPaths: new Set() };
  app.use('*', browserOriginProtection(() => deps.config?.browserOrigin));
  healthRoutes(router);
  mlflowTrackingRoutes(router);
  artifactRoutes(router);
  registryRoutes(router);
  wandbRoutes(router);
  app.get('/openapi.json', (c) => c.json(app.getOpenAPIDocument(OPENAPI_INFO)));

  app.notFound((c) => {
    const path = c.req.path;
    // Flask answers a wrong method on a known path with 405; the client maps it to an error, not a fallback.
    if (router.knownPaths.has(path)) return errorResponse(c, 405, 'ENDPOINT_NOT_FOUND', `Method ${c.req.method} not allowed on ${path}`);
    const family = unimplementedFamily(path);
    if (family) return errorResponse(c, 501, 'NOT_IMPLEMENTED', `Cairn does not implement ${family} yet: ${c.req.method} ${path}`);
    return errorResponse(c, 404, 'ENDPOINT_NOT_FOUND', `No API endpoint at ${c.req.method} ${path}`);
  });

  app.onError((err, c) => {
    if (err instanceof MlflowError) return errorResponse(c, err.status, err.code, err.message);
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
  return c.json({ error_code: code, message }, status as 400);
}

// Postgres rejects some values only the client could have sent (a bigint out of range, a NUL byte in
// text): those are the client's errors, not ours. A lost database connection is worth a retry.
function fromDatabaseError(err: unknown): { status: number; code: ErrorCode; message: string } | undefined {
  for (let e = err as { code?: unknown; message?: string; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    const code = typeof e.code === 'string' ? e.code : '';
    if (code.startsWith('22')) return { status: 400, code: 'INVALID_PARAMETER_VALUE', message: `Invalid value: ${e.message}` };
    if (code === '40001' || code === '40P01' || code.startsWith('08') || code === '57P01' || code === 'ECONNREFUSED' || code === 'ECONNRESET') {
      return { status: 503, code: 'TEMPORARILY_UNAVAILABLE', message: `The database is temporarily unavailable: ${e.message}` };
    }
  }
  return undefined;
}
