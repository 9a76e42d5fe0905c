import { z } from '@hono/zod-openapi';
import { experimentActivity, runActivity } from '../../domain/activity.js';
import { invalidParam } from '../../errors.js';
import { requiredString } from '../../lib/zod-wire.js';
import { defineRoute, type Router } from '../define.js';
import { boundedInt, tag } from './schemas.js';

const eventOut = z.object({
  run_id: z.string(),
  run_name: z.string().optional(),
  kind: z.enum(['created', 'tags', 'notes', 'stage', 'moved']),
  username: z.string().nullable().openapi({ description: 'null when nobody is known (accounts off and an MLflow call)' }),
  detail: z.string().nullable().openapi({ description: 'For stage: deleted or restored; for moved: the name of the experiment the run left' }),
  at: z.number().int(),
});

/** The activity record of runs (docs/teams.md#activity), for the run page and an experiment's list. */
export function activityRoutes(r: Router): void {
  defineRoute(r, {
    method: 'get', path: '/cairn/ui/runs/activity', access: 'experiment:read', tag,
    summary: "A run's activity, oldest first: who created it and who changed its tags, notes or stage",
    input: z.object({ run_id: requiredString }),
    output: z.object({ events: z.array(eventOut) }),
    handle: async (deps, input) => ({ events: await runActivity(deps.db, input.run_id) }),
  });
  defineRoute(r, {
    method: 'get', path: '/cairn/ui/experiments/activity', access: 'experiment:read', tag,
    summary: "An experiment's activity across its runs, newest first",
    input: z.object({ experiment_id: requiredString, max_results: boundedInt(1, 1000).optional() }),
    output: z.object({ events: z.array(eventOut) }),
    handle: async (deps, input) => {
      if (!/^\d{1,18}$/.test(input.experiment_id)) throw invalidParam(`Invalid experiment id '${input.experiment_id.slice(0, 40)}'`);
      return { events: await experimentActivity(deps.db, Number(input.experiment_id), input.max_results ?? 200) };
    },
  });
}
