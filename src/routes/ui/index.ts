import type { Router } from '../define.js';
import { activityRoutes } from './activity.js';
import { runMoveRoutes } from './run-move.js';
import { runPageRoutes } from './run-page.js';
import { runTableRoutes } from './runs.js';
import { seriesRoutes } from './series.js';
import { wandbLinkRoutes } from './wandb.js';

/** The endpoints only the web UI needs, under /api/2.0/cairn/ui (docs/ui-api.md). */
export function uiRoutes(r: Router): void {
  seriesRoutes(r);
  runTableRoutes(r);
  runPageRoutes(r);
  wandbLinkRoutes(r);
  activityRoutes(r);
  runMoveRoutes(r);
}
