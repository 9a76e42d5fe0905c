import { z } from '@hono/zod-openapi';
import { MlflowError } from '../errors.js';
import { guard, type Router } from './define.js';

// GET /metrics, as `mlflow server --expose-prometheus` serves it: Prometheus' text format.
// Access: any account when auth is on (MLflow's auth lets every signed-in user read it, as it has no
// permission rule for it), anyone when it is off; it holds counts and route patterns, never data.
// Without --expose-prometheus it does not exist (404), as in MLflow.

export function metricsRoutes(router: Router): void {
  const { app } = router;
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics (with --expose-prometheus): requests by route and status, latency, database pool, ingest counters, process',
    tags: ['Server'],
    responses: {
      200: { description: 'Metrics in the Prometheus text format', content: { 'text/plain': { schema: z.string() } } },
      404: { description: 'The server runs without --expose-prometheus' },
    },
  });
  app.get('/metrics', guard(router, 'authenticated', async (c) => {
    const metrics = router.deps.metrics;
    if (!metrics) throw new MlflowError('ENDPOINT_NOT_FOUND', 'Metrics are off: start the server with --expose-prometheus to serve /metrics');
    let text: string;
    try {
      text = await metrics.scrape();
    } catch (err) {
      throw new MlflowError('TEMPORARILY_UNAVAILABLE', `Metrics could not be gathered: ${(err as Error).message}`);
    }
    c.header('Cache-Control', 'no-store');
    return c.body(text, 200, { 'Content-Type': metrics.registry.contentType });
  }));
}
