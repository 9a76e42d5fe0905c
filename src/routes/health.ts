import { z } from '@hono/zod-openapi';
import { defineRoute, type Router } from './define.js';

/** Version the server reports; the client gates features (OTLP span logging ≥ 3.4) on it. */
export const MLFLOW_COMPAT_VERSION = '3.18.0';

export function healthRoutes(router: Router): void {
  const { app } = router;
  app.get('/health', (c) => c.text('OK'));
  app.get('/version', (c) => c.text(MLFLOW_COMPAT_VERSION));
  defineRoute(router, {
    method: 'get',
    path: '/mlflow/server-info',
    version: '3.0',
    tag: 'Server',
    summary: 'Store type and workspace support, probed by the client',
    input: z.object({}),
    output: z.object({ store_type: z.string(), workspaces_enabled: z.boolean() }),
    handle: () => ({ store_type: 'SqlStore', workspaces_enabled: false }),
  });
}
