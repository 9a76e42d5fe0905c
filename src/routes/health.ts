import { z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { rows, type Orm } from '../db/connect.js';
import { defineRoute, guard, type Router } from './define.js';

/** Version the server reports; the client gates features (OTLP span logging ≥ 3.4) on it. */
export const MLFLOW_COMPAT_VERSION = '3.18.0';

// What the client and the UI read to pick code paths. Every capability Cairn lacks is reported off
// (presigned uploads, multipart through the server, trace archival, the AI gateway), so callers take
// the plain proxied path; the README's compatibility table lists these.
const SERVER_INFO = {
  store_type: 'SqlStore',
  workspaces_enabled: false,
  trace_archival_enabled: false,
  multipart_uploads_enabled: false,
  multipart_downloads_enabled: false,
  artifact_serving_enabled: true,
  presigned_upload_run_id_supported: false,
  presigned_upload_model_id_supported: false,
  model_artifact_presigned_downloads_supported: false,
  features_enabled: { gateway: false, scheduled_issue_detection: false },
  tracking_auth: '',
  artifacts_presigned_only: false,
};

const answers = (db: Orm) => rows(db, sql`select 1`).then(() => true, () => false);

export function healthRoutes(router: Router): void {
  const { app } = router;
  for (const [route, summary, body] of [
    ['/health', 'Liveness probe: "OK"', () => 'OK'],
    ['/version', 'The MLflow version whose API Cairn speaks', () => MLFLOW_COMPAT_VERSION],
  ] as const) {
    app.openAPIRegistry.registerPath({
      method: 'get',
      path: route,
      summary,
      tags: ['Server'],
      responses: { 200: { description: 'OK', content: { 'text/plain': { schema: z.string() } } } },
    });
    app.get(route, guard(router, 'public', (c) => c.text(body())));
  }
  // Readiness, for load balancers: unlike /health (the process is alive), it says whether this
  // process should get traffic now: the database answers (and the registry's, when
  // --registry-store-uri gives it one of its own), and no shutdown is draining it.
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/ready',
    summary: 'Readiness probe: 200 "READY" when the database (and a separate registry database) answers and the server is not shutting down, else 503',
    tags: ['Server'],
    responses: {
      200: { description: 'Ready', content: { 'text/plain': { schema: z.string() } } },
      503: { description: 'Not ready (a database unreachable, or draining for shutdown)', content: { 'text/plain': { schema: z.string() } } },
    },
  });
  app.get('/ready', guard(router, 'public', async (c) => {
    c.header('Cache-Control', 'no-store');
    if (router.deps.lifecycle.draining) return c.text('DRAINING', 503);
    const { db, registryDb } = router.deps;
    const [backend, registry] = await Promise.all([answers(db), registryDb === db ? true : answers(registryDb)]);
    if (!backend) return c.text('DATABASE UNAVAILABLE', 503);
    if (!registry) return c.text('REGISTRY DATABASE UNAVAILABLE', 503);
    return c.text('READY');
  }));
  defineRoute(router, {
    method: 'get',
    path: '/mlflow/server-info', access: 'public',
    version: '3.0',
    tag: 'Server',
    summary: 'Store type and workspace support, probed by the client',
    input: z.object({}),
    output: z.object({ store_type: z.string(), workspaces_enabled: z.boolean() }).passthrough(),
    handle: () => SERVER_INFO,
  });
}
