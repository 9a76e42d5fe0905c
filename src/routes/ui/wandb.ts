import { z } from '@hono/zod-openapi';
import { resolveWandbPath } from '../../domain/ui/resolve.js';
import { defineRoute, type Router } from '../define.js';
import { tag } from './schemas.js';

export function wandbLinkRoutes(r: Router): void {
  defineRoute(r, {
    method: 'get', path: '/cairn/ui/wandb/resolve', tag,
    summary: 'Maps a W&B URL /<entity>/<project>[/runs/<run>] to the experiment (and run) it names, for deep links',
    input: z.object({ entity: z.string().min(1).max(128), project: z.string().min(1).max(500), run: z.string().min(1).max(256).optional() }),
    output: z.object({ experiment_id: z.string(), run_id: z.string().optional() }),
    handle: (deps, input) => resolveWandbPath(deps, input),
  });
}
