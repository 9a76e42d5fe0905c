import { z } from '@hono/zod-openapi';
import { defineRoute, guard, type Router } from './define.js';

/** Version the server reports; the client gates features (OTLP span logging ≥ 3.4) on it. */
export const MLFLOW_COMPAT_VERSION = '3.18.0';

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
    output: z.object({ store_type: z.string(), workspaces_enabled: z.boolean() }),
    handle: () => ({ store_type: 'SqlStore', workspaces_enabled: false }),
  });
}
