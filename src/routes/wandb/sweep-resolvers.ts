import { sql } from 'drizzle-orm';
import { afterProjectWrite, checkProject } from '../../auth/wandb.js';
import { rows } from '../../db/connect.js';
import { flattenRow } from '../../domain/wandb/flatten.js';
import { parseWandbObject } from '../../domain/wandb/json.js';
import { isoTime } from '../../domain/wandb/run-filters.js';
import { selectRuns, type WandbRunRow } from '../../domain/wandb/run-store.js';
import { agentHeartbeat, settleSweepState } from '../../domain/wandb/sweeps-agent.js';
import { expectedRunCount } from '../../domain/wandb/sweeps-search.js';
import { agentSweep, createAgent, findSweep, sweepByName, sweepConfig, sweepStorageId, upsertSweep, type SweepRow } from '../../domain/wandb/sweeps-store.js';
import type { GqlContext } from './resolvers.js';

// Thin GraphQL adapters over the sweep domain (src/domain/wandb/sweeps-*).

type Args = Record<string, unknown>;
interface SweepObj {
  row: SweepRow;
}
interface ProjectObj {
  experimentId: number;
  name: string;
  entity: string;
}
interface AgentRow {
  id: number | string;
  host: string;
  created_at: number | string;
  heartbeat_at: number | string;
  total_runs: number | string;
}

const str = (v: unknown) => (typeof v === 'string' ? v : null);

async function sweepRuns(ctx: GqlContext, s: SweepRow): Promise<WandbRunRow[]> {
  const found = await selectRuns(ctx.deps.db, sql`w.experiment_id = ${s.experiment_id} and w.sweep = ${s.name} and r.lifecycle_stage = 'active'`);
  return found.sort((a, b) => a.created_at - b.created_at);
}

async function agents(ctx: GqlContext, s: SweepRow, id?: number): Promise<AgentRow[]> {
  return rows<AgentRow>(
    ctx.deps.db,
    sql`select a.id, a.host, a.created_at, a.heartbeat_at, (select count(*) from wandb_sweep_trials t where t.agent_id = a.id) as total_runs
        from wandb_sweep_agents a where a.sweep = ${s.name}${id === undefined ? sql`` : sql` and a.id = ${id}`} order by a.id`,
  );
}

const agentObj = (a: AgentRow) => ({
  id: String(a.id),
  name: String(a.id),
  host: a.host,
  state: 'RUNNING',
  totalRuns: Number(a.total_runs),
  createdAt: isoTime(Number(a.created_at)),
  heartbeatAt: isoTime(Number(a.heartbeat_at)),
});

function bestLoss(s: SweepRow, runs: WandbRunRow[]): number | null {
  const metric = sweepConfig(s).metric;
  if (!metric) return null;
  const values = runs.map((r) => flattenRow(parseWandbObject(r.summary, 'summary'))[metric.name]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (!values.length) return null;
  return metric.goal === 'maximize' ? Math.max(...values) : Math.min(...values);
}

async function lookup(ctx: GqlContext, p: ProjectObj, name: unknown): Promise<SweepObj | null> {
  if (typeof name !== 'string') return null;
  const found = await findSweep(ctx.deps, p.name, name, p.entity);
  return found ? { row: await settleSweepState(ctx.deps, found) } : null;
}

export const sweepResolvers = {
  Mutation: {
    upsertSweep: async (_s: unknown, args: Args, ctx: GqlContext) => {
      const i = args.input as Record<string, string | null>;
      const { sweep, projectCreated } = await upsertSweep(
        ctx.deps,
        ctx.user,
        {
          id: i.id,
          config: i.config,
          entityName: i.entityName || ctx.defaultEntity,
          projectName: i.projectName,
          state: i.state,
          displayName: i.displayName,
          description: i.description,
          controller: i.controller,
          priorRunsFilters: i.priorRunsFilters,
        },
        (project, entity) => checkProject(ctx.deps, ctx.principal, project, 'edit', entity),
      );
      await afterProjectWrite(ctx.deps, ctx.principal, projectCreated, sweep.experiment_id);
      return { sweep: { row: sweep } satisfies SweepObj, configValidationWarnings: [], inserted: !i.id };
    },
    createAgent: async (_s: unknown, args: Args, ctx: GqlContext) => {
      const i = args.input as { host: string; projectName?: string | null; sweep: string };
      await checkProject(ctx.deps, ctx.principal, i.projectName ?? undefined, 'edit');
      const id = await createAgent(ctx.deps, { project: i.projectName, sweep: i.sweep, host: i.host });
      return { agent: { id: String(id), name: String(id), host: i.host, state: 'RUNNING', totalRuns: 0 } };
    },
    agentHeartbeat: async (_s: unknown, args: Args, ctx: GqlContext) => {
      const i = args.input as { id: string; runState?: string | null };
      const sweep = await agentSweep(ctx.deps.db, i.id);
      await checkProject(ctx.deps, ctx.principal, sweep.project, 'edit', sweep.entity);
      const runState = i.runState ? parseWandbObject(i.runState, 'runState') : {};
      const commands = await agentHeartbeat(ctx.deps, i.id, runState, Math.random);
      return { agent: { id: i.id, name: i.id, state: 'RUNNING' }, commands: JSON.stringify(commands) };
    },
  },
  Project: {
    sweep: (p: ProjectObj, args: Args, ctx: GqlContext) => lookup(ctx, p, args.sweepName),
    sweeps: async (p: ProjectObj, _args: Args, ctx: GqlContext) => {
      const found = await rows<{ name: string }>(ctx.deps.db, sql`select name from wandb_sweeps where experiment_id = ${p.experimentId} order by created_at desc`);
      const sweeps = await Promise.all(found.map(async (f) => ({ row: await settleSweepState(ctx.deps, (await sweepByName(ctx.deps.db, f.name))!) })));
      return {
        edges: sweeps.map((s) => ({ node: s, cursor: s.row.name })),
        pageInfo: { startCursor: null, endCursor: sweeps.at(-1)?.row.name ?? null, hasNextPage: false, hasPreviousPage: false },
      };
    },
    totalSweeps: async (p: ProjectObj, _args: Args, ctx: GqlContext) =>
      Number((await rows<{ n: number | string }>(ctx.deps.db, sql`select count(*) as n from wandb_sweeps where experiment_id = ${p.experimentId}`))[0].n),
  },
  Sweep: {
    id: ({ row }: SweepObj) => sweepStorageId(row.name),
    name: ({ row }: SweepObj) => row.name,
    displayName: ({ row }: SweepObj) => row.display_name ?? sweepConfig(row).name ?? null,
    method: ({ row }: SweepObj) => row.method,
    state: ({ row }: SweepObj) => row.state,
    description: ({ row }: SweepObj) => row.description,
    config: ({ row }: SweepObj) => row.config_yaml,
    createdAt: ({ row }: SweepObj) => isoTime(row.created_at),
    updatedAt: ({ row }: SweepObj) => isoTime(row.updated_at),
    heartbeatAt: ({ row }: SweepObj) => isoTime(row.updated_at),
    earlyStopJobRunning: () => false,
    bestLoss: async ({ row }: SweepObj, _a: Args, ctx: GqlContext) => bestLoss(row, await sweepRuns(ctx, row)),
    controller: ({ row }: SweepObj) => row.controller,
    scheduler: ({ row }: SweepObj) => row.scheduler,
    runCount: async ({ row }: SweepObj, _a: Args, ctx: GqlContext) => (await sweepRuns(ctx, row)).length,
    runCountExpected: ({ row }: SweepObj) => expectedRunCount(sweepConfig(row)),
    project: ({ row }: SweepObj) => ({ experimentId: row.experiment_id, name: row.project, entity: row.entity }) satisfies ProjectObj,
    runs: async ({ row }: SweepObj, _a: Args, ctx: GqlContext) => {
      const runs = await sweepRuns(ctx, row);
      return {
        edges: runs.map((r) => ({ node: { row: r }, cursor: r.name })),
        pageInfo: { startCursor: runs[0]?.name ?? null, endCursor: runs.at(-1)?.name ?? null, hasNextPage: false, hasPreviousPage: false },
        totalCount: runs.length,
      };
    },
    agent: async ({ row }: SweepObj, args: Args, ctx: GqlContext) => {
      const id = Number(args.agentName);
      const [a] = Number.isSafeInteger(id) ? await agents(ctx, row, id) : [];
      return a ? agentObj(a) : null;
    },
    agents: async ({ row }: SweepObj, _a: Args, ctx: GqlContext) => ({ edges: (await agents(ctx, row)).map((a) => ({ node: agentObj(a) })) }),
  },
  Run: {
    shouldStop: async ({ row }: { row: WandbRunRow }, _a: Args, ctx: GqlContext) => {
      if (!row.sweep) return false;
      const found = await rows(ctx.deps.db, sql`select 1 from wandb_sweep_trials where sweep = ${row.sweep} and run_name = ${row.name} and should_stop`);
      return found.length > 0;
    },
    failed: ({ row }: { row: WandbRunRow }) => row.state === 'failed' || row.state === 'crashed',
    running: ({ row }: { row: WandbRunRow }) => row.state === 'running',
    sweep: async ({ row }: { row: WandbRunRow }, _a: Args, ctx: GqlContext) => {
      const s = row.sweep ? await sweepByName(ctx.deps.db, row.sweep) : undefined;
      return s && s.experiment_id === row.experiment_id ? { row: s } : null;
    },
  },
};
