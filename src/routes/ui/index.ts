import type { Router } from '../define.js';
import { seriesRoutes } from './series.js';

/** The endpoints only the web UI needs, under /api/2.0/cairn/ui (docs/ui-api.md). */
export function uiRoutes(r: Router): void {
  seriesRoutes(r);
}
