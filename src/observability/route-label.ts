import type { Context } from 'hono';
import { matchedRoutes } from 'hono/route';

/**
 * The pattern of the route that serves (or would serve) this request, e.g.
 * `/api/2.0/mlflow/runs/get` or `/files/:entity/:project/:run/file_stream`: a label with a bounded
 * set of values, unlike the raw path. Global middleware (`*`) is skipped; a request no route
 * matches is `unmatched`. The first matching route wins, as it does when Hono dispatches.
 */
export function routeLabel(c: Context): string {
  for (const r of matchedRoutes(c)) {
    if (r.method === 'ALL' && (r.path === '*' || r.path === '/*')) continue;
    return r.path;
  }
  return 'unmatched';
}
