import { z } from '@hono/zod-openapi';
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
