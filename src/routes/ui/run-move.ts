import { z } from '@hono/zod-openapi';
import { actorOf, authorize, principalOf } from '../../auth/policy.js';
import { experimentsOf } from '../../auth/resources.js';
import { moveRun } from '../../domain/run-move.js';
import { invalidParam } from '../../errors.js';
import { requiredString } from '../../lib/zod-wire.js';
import { defineRoute, type Router } from '../define.js';
import { tag } from './schemas.js';

/** Moving a run between experiments (docs/teams.md#moving-runs): W&B does it in its web UI only. */
export function runMoveRoutes(r: Router): void {
  defineRoute(r, {
    // The declared access checks the destination (experiment_id). Taking a run out of the source
    // hides it from the source's readers as deleting it would, so the handler asks MANAGE there.
    method: 'post', path: '/cairn/runs/move', access: 'experiment:edit', tag,
    summary: 'Move a run to another experiment (MANAGE on its experiment, EDIT on the destination); a W&B run also changes project. Its artifact_uri stays',
    input: z.object({
      run_id: requiredString,
      experiment_id: requiredString.openapi({ description: 'The destination. The run already there: nothing changes, the same answer (retries are safe)' }),
    }),
    output: z.object({
      experiment_id: z.string(),
      entity: z.string().optional().openapi({ description: "A W&B run's entity and project after the move" }),
      project: z.string().optional(),
    }),
    handle: async (deps, input, c) => {
      if (!/^\d{1,18}$/.test(input.experiment_id)) throw invalidParam(`Invalid experiment id '${input.experiment_id.slice(0, 40)}'`);
      const dest = Number(input.experiment_id);
      // A run already in the destination needs no more (a retry); else MANAGE where it is now.
      const [source] = await experimentsOf(deps, { run_id: input.run_id });
      if (source !== undefined && source !== dest) await authorize(deps, principalOf(c), 'experiment:manage', { experiment_id: String(source) });
      return moveRun(deps, input.run_id, dest, actorOf(c), source);
    },
  });
}
