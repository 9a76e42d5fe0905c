import { sql } from 'drizzle-orm';
import { checkProject } from '../../auth/wandb.js';
import { MlflowError } from '../../errors.js';
import { selectRuns, type WandbRunRow } from '../../domain/wandb/run-store.js';
import type { GqlContext } from './resolvers.js';
import type { ArtifactObj } from './artifact-objects.js';

// `artifact.logged_by()` (Artifact.createdBy) and `artifact.used_by()` (Artifact.usedBy). A run
// is shown only to a caller who may read its project: use_artifact records runs of any project.

async function readable(ctx: GqlContext, run: WandbRunRow): Promise<boolean> {
  if (run.lifecycle_stage !== 'active') return false;
  try {
    await checkProject(ctx.deps, ctx.principal, run.project, 'read');
    return true;
  } catch (err) {
    if (err instanceof MlflowError && (err.status === 401 || err.status === 403)) return false;
    throw err;
  }
}

export const artifactLineageResolvers = {
  createdBy: async ({ a }: ArtifactObj, _args: unknown, ctx: GqlContext) => {
    if (!a.run_id) return null;
    const [run] = await selectRuns(ctx.deps.db, sql`w.run_id = ${a.run_id}`);
    return run && (await readable(ctx, run)) ? { __typename: 'Run', row: run } : null;
  },
  usedBy: async ({ a }: ArtifactObj, _args: unknown, ctx: GqlContext) => {
    const runs = await selectRuns(ctx.deps.db, sql`w.run_id in (select u.run_id from wandb_artifact_usage u where u.artifact_id = ${a.id}) order by w.created_at, w.run_id`);
    const shown = [];
    for (const run of runs) if (await readable(ctx, run)) shown.push(run);
    return {
      edges: shown.map((row) => ({ node: { row }, cursor: row.run_id })),
      pageInfo: { startCursor: null, endCursor: shown.at(-1)?.run_id ?? null, hasNextPage: false, hasPreviousPage: false },
      totalCount: shown.length,
    };
  },
};
