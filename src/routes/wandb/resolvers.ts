import type { Principal } from '../../auth/principal.js';
import { checkEntity } from '../../auth/teams.js';
import { afterProjectWrite, checkProject } from '../../auth/wandb.js';
import { assignToTeam } from '../../domain/teams/team-grants.js';
import type { Deps } from '../../deps.js';
import { invalidParam } from '../../errors.js';
import type { WandbUser } from '../../domain/wandb/api-keys.js';
import { historyKeys, latestSystemMetrics, readEvents, readHistory, readSampledHistory, tail } from '../../domain/wandb/history-read.js';
import { isPlainObject, parseWandbJson, stringifyWandbJson } from '../../domain/wandb/json.js';
import { findProject, projectCreatedAt } from '../../domain/wandb/projects.js';
import { isoTime } from '../../domain/wandb/run-filters.js';
import { uploadUrls } from '../../domain/wandb/run-files.js';
import { countRuns, listRuns } from '../../domain/wandb/run-list.js';
import { requireRun, runByName, runIdFromStorageId, storageId, wandbState, type WandbRunRow } from '../../domain/wandb/run-store.js';
import { upsertWandbRun } from '../../domain/wandb/upsert.js';
import { changedBetween, notesAndTags, recordActivity } from '../../domain/activity.js';
import { runFileResolvers } from './run-file-resolvers.js';
import { artifactResolvers } from './artifact-resolvers.js';
import { collectionResolvers } from './artifact-collection-resolvers.js';
import { sweepResolvers } from './sweep-resolvers.js';
import { teamResolvers } from './team-resolvers.js';
import { b64, entityObject, userObject } from './wire-objects.js';

export interface GqlContext {
  deps: Deps;
  user: WandbUser;
  /** The caller for permission checks (unrestricted with auth off). */
  principal: Principal;
  /** Where this request reached Cairn, for the upload URLs handed back. */
  baseUrl: string;
  /** Where this caller's runs go when the client names no entity (viewer.entity). */
  defaultEntity: string;
  /** History reads left in this request (aliases could otherwise ask for thousands at once). */
  historyReads: number;
}

export const MAX_HISTORY_READS = 20;

function spendHistoryRead(ctx: GqlContext, n = 1): void {
  ctx.historyReads -= n;
  if (ctx.historyReads < 0) throw invalidParam(`One request may read at most ${MAX_HISTORY_READS} histories; ask for fewer runs or specs at a time`);
}

interface ProjectObj {
  experimentId: number;
  name: string;
  entity: string;
}

interface RunObj {
  row: WandbRunRow;
  /** Returned by upsertBucket: see historyLineCount. */
  fromUpsert?: boolean;
}

type Args = Record<string, unknown>;
type Resolver<S> = (source: S, args: Args, ctx: GqlContext) => unknown;

const str = (v: unknown) => (typeof v === 'string' ? v : null);
const viewer = userObject;
const entity = entityObject;

async function project(ctx: GqlContext, args: Args): Promise<ProjectObj | null> {
  const name = str(args.name);
  if (!name) return null;
  const entityName = str(args.entityName) ?? ctx.defaultEntity;
  const found = await findProject(ctx.deps, name, entityName);
  if (!found || found.lifecycleStage !== 'active') return null;
  await checkProject(ctx.deps, ctx.principal, name, 'read', entityName);
  return { experimentId: found.experimentId, name, entity: entityName };
}

async function runIn(ctx: GqlContext, p: ProjectObj, name: unknown): Promise<RunObj | null> {
  if (typeof name !== 'string') return null;
  const row = await runByName(ctx.deps.db, p.experimentId, name);
  return row && row.lifecycle_stage === 'active' ? { row } : null;
}

function wandbConfig(row: WandbRunRow, keys: unknown): string | null {
  if (!row.config) return null;
  const config = parseWandbJson(row.config, 'config');
  const internal = isPlainObject(config) && isPlainObject(config._wandb) && isPlainObject(config._wandb.value) ? config._wandb.value : {};
  const wanted = Array.isArray(keys) ? (keys as string[]) : Object.keys(internal);
  const out: Record<string, unknown> = {};
  for (const k of wanted) if (k in internal) out[k] = internal[k];
  return stringifyWandbJson(out);
}

export const resolvers: Record<string, Record<string, Resolver<never>>> = {
  Query: {
    viewer: (_s, _a, ctx) => ({ ...viewer(ctx.user), entity: ctx.defaultEntity }),
    serverInfo: () => ({
      // Plain-text console logs, no gzip, client-side glob expansion. File connections carry
      // totalCount, so the client can size `artifact.files()` (len(), list()).
      features: [{ name: 'TOTAL_COUNT_IN_FILE_CONNECTION', isEnabled: true }],
      cliVersionInfo: {},
      latestLocalVersionInfo: null,
    }),
    project: (_s, args, ctx) => project(ctx, args),
    model: (_s, args, ctx) => project(ctx, args),
    entity: (_s, args) => (typeof args.name === 'string' ? entity(args.name) : null),
    ...(artifactResolvers.Query as Record<string, Resolver<never>>),
    ...(teamResolvers.Query as Record<string, Resolver<never>>),
  },
  Mutation: {
    upsertBucket: async (_s, args, ctx) => {
      const i = args.input as Record<string, never>;
      const check = (project: string, entity: string) => checkProject(ctx.deps, ctx.principal, project, 'edit', entity);
      // Logging into a team's entity is for its members and admins; nothing is written otherwise.
      const entityName = str(i.entityName) ?? ctx.defaultEntity;
      const team = await checkEntity(ctx.deps, ctx.principal, entityName, 'edit');
      // run.update() of the public API names the run by its storage id: note what it changes.
      const updated = str(i.id) ? runIdFromStorageId(str(i.id)!) : undefined;
      const before = updated ? await notesAndTags(ctx.deps.db, updated) : undefined;
      const { run, inserted, projectCreated } = await upsertWandbRun(ctx.deps, ctx.user, {
        id: i.id,
        name: i.name,
        project: i.modelName,
        entity: entityName,
        groupName: i.groupName,
        description: i.description,
        displayName: i.displayName,
        notes: i.notes,
        commit: i.commit,
        config: i.config,
        host: i.host,
        program: i.jobProgram,
        repo: i.jobRepo,
        jobType: i.jobType,
        state: i.state,
        sweep: i.sweep,
        tags: i.tags,
        summaryMetrics: i.summaryMetrics,
      }, check);
      await afterProjectWrite(ctx.deps, ctx.principal, projectCreated, run.experiment_id);
      if (team && projectCreated) await assignToTeam(ctx.deps.db, 'experiment', team.id, run.experiment_id);
      // The activity record: the run's creator, and what run.update() changed (the SDK's own
      // upserts while a run logs are its creator's and not recorded as changes).
      const changed = inserted ? ['created' as const] : before ? changedBetween(before, await notesAndTags(ctx.deps.db, run.run_id)) : [];
      await recordActivity(ctx.deps.db, run.run_id, changed, ctx.user.name, ctx.deps.now());
      return { bucket: { row: run, fromUpsert: true } satisfies RunObj, inserted, updateAvailable: false };
    },
    createRunFiles: async (_s, args, ctx) => {
      const i = args.input as { entityName: string; projectName: string; runName: string; files: string[] };
      await checkProject(ctx.deps, ctx.principal, i.projectName, 'edit', i.entityName);
      const run = await requireRun(ctx.deps, i.projectName, i.runName, i.entityName);
      return { runID: storageId(run.run_id), uploadHeaders: [], files: await uploadUrls(ctx.deps, run, i.files, ctx.baseUrl) };
    },
    markRunFilesUploaded: () => ({ success: true }),
    notifyScriptableRunAlert: () => ({ success: true }),
    ...(artifactResolvers.Mutation as Record<string, Resolver<never>>),
    ...(sweepResolvers.Mutation as Record<string, Resolver<never>>),
    ...(teamResolvers.Mutation as Record<string, Resolver<never>>),
  },
  Project: {
    id: (p: ProjectObj) => b64(`Project:${p.experimentId}`),
    internalId: (p: ProjectObj) => String(p.experimentId),
    name: (p: ProjectObj) => p.name,
    entityName: (p: ProjectObj) => p.entity,
    entity: (p: ProjectObj) => entity(p.entity),
    description: () => null,
    readOnly: () => false,
    createdAt: async (p: ProjectObj, _a, ctx) => isoTime((await projectCreatedAt(ctx.deps, p.experimentId)) ?? 0),
    runCount: (p: ProjectObj, args, ctx) => countRuns(ctx.deps, p.experimentId, str(args.filters)),
    runs: async (p: ProjectObj, args, ctx) => {
      const page = await listRuns(ctx.deps, p.experimentId, {
        filters: str(args.filters),
        order: str(args.order),
        first: typeof args.first === 'number' ? args.first : null,
        after: str(args.after),
      });
      return {
        edges: page.runs.map((row, i) => ({ node: { row } satisfies RunObj, cursor: page.cursors[i] })),
        pageInfo: { startCursor: page.cursors[0] ?? null, endCursor: page.endCursor, hasNextPage: page.hasNextPage, hasPreviousPage: false },
        totalCount: null,
      };
    },
    run: (p: ProjectObj, args, ctx) => runIn(ctx, p, args.name),
    bucket: (p: ProjectObj, args, ctx) => runIn(ctx, p, args.name),
    ...(artifactResolvers.Project as Record<string, Resolver<never>>),
    ...(sweepResolvers.Project as Record<string, Resolver<never>>),
    ...(teamResolvers.Project as Record<string, Resolver<never>>),
  },
  Run: {
    id: ({ row }: RunObj) => storageId(row.run_id),
    name: ({ row }: RunObj) => row.name,
    displayName: ({ row }: RunObj) => row.display_name,
    description: ({ row }: RunObj) => row.notes,
    notes: ({ row }: RunObj) => row.notes,
    state: ({ row }: RunObj, _a, ctx) => wandbState(row, ctx.deps.now()),
    group: ({ row }: RunObj) => row.group_name,
    jobType: ({ row }: RunObj) => row.job_type,
    commit: ({ row }: RunObj) => row.commit,
    host: ({ row }: RunObj) => row.host,
    sweepName: ({ row }: RunObj) => row.sweep,
    readOnly: () => false,
    stopped: () => false,
    exitcode: ({ row }: RunObj) => row.exit_code,
    createdAt: ({ row }: RunObj) => isoTime(row.created_at),
    heartbeatAt: ({ row }: RunObj) => isoTime(row.heartbeat_at),
    updatedAt: ({ row }: RunObj) => isoTime(row.heartbeat_at),
    tags: ({ row }: RunObj) => JSON.parse(row.tags),
    config: ({ row }: RunObj) => row.config ?? '{}',
    summaryMetrics: ({ row }: RunObj) => row.summary,
    systemMetrics: ({ row }: RunObj, _a, ctx) => latestSystemMetrics(ctx.deps.db, row),
    // upsertBucket answers 0: a count there makes wandb-core append after the existing lines, so
    // a replayed `wandb sync` or a retried init would duplicate history. Resuming goes through
    // RunResumeStatus, which reports the real counts.
    historyLineCount: ({ row, fromUpsert }: RunObj) => (fromUpsert ? 0 : row.history_line_count),
    logLineCount: ({ row }: RunObj) => row.log_line_count,
    eventsLineCount: ({ row }: RunObj) => row.events_line_count,
    historyKeys: ({ row }: RunObj) => historyKeys(row),
    historyTail: ({ row }: RunObj, _a, ctx) => tail(ctx.deps.db, row, 'history'),
    eventsTail: ({ row }: RunObj, _a, ctx) => tail(ctx.deps.db, row, 'events'),
    wandbConfig: ({ row }: RunObj, args) => wandbConfig(row, args.keys),
    user: ({ row }: RunObj) => viewer({ name: row.user_name }),
    project: ({ row }: RunObj) => ({ experimentId: row.experiment_id, name: row.project, entity: row.entity }) satisfies ProjectObj,
    projectId: ({ row }: RunObj) => row.experiment_id,
    history: ({ row }: RunObj, args, ctx) => {
      spendHistoryRead(ctx);
      return readHistory(ctx.deps.db, row, {
        samples: args.samples as number | null,
        minStep: args.minStep as number | null,
        maxStep: args.maxStep as number | null,
      });
    },
    events: ({ row }: RunObj, args, ctx) => {
      spendHistoryRead(ctx);
      return readEvents(ctx.deps.db, row, args.samples as number | null);
    },
    sampledHistory: ({ row }: RunObj, args, ctx) => {
      spendHistoryRead(ctx, (args.specs as string[]).length);
      return readSampledHistory(ctx.deps.db, row, args.specs as string[]);
    },
    // No exported parquet files: wandb-core then reads every page through `history`.
    parquetHistory: () => ({ parquetUrls: [], liveData: [] }),
    ...runFileResolvers.Run,
    ...(artifactResolvers.Run as Record<string, Resolver<never>>),
    ...(sweepResolvers.Run as Record<string, Resolver<never>>),
  },
  Entity: { ...collectionResolvers.Entity, ...teamResolvers.Entity },
  Sweep: sweepResolvers.Sweep,
  User: teamResolvers.User,
  File: runFileResolvers.File,
  ArtifactCollectionMembership: artifactResolvers.ArtifactCollectionMembership,
  Artifact: artifactResolvers.Artifact,
  ArtifactSequence: artifactResolvers.ArtifactSequence,
  ArtifactPortfolio: (({ latestArtifact: _, ...rest }) => rest)(artifactResolvers.ArtifactSequence),
  ArtifactAlias: artifactResolvers.ArtifactAlias,
  ArtifactType: artifactResolvers.ArtifactType,
} as Record<string, Record<string, Resolver<never>>>;
