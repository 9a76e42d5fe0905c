import { sql } from 'drizzle-orm';
import { rows, type Orm } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { notFound } from '../../errors.js';
import { textArray } from '../../lib/pg-array.js';
import { updateRun } from '../runs.js';
import { flattenRow } from './flatten.js';
import { parseWandbObject } from './json.js';
import { CRASH_AFTER_MS } from './run-store.js';
import { hyperbandStops } from './sweeps-hyperband.js';
import { pointKey } from './sweeps-grid.js';
import { toArgs, type Rng, type Suggestion } from './sweeps-sampling.js';
import { proposeNext, signed } from './sweeps-search.js';
import { priorObservations } from './sweeps-prior.js';
import { parseController, parseScheduler, pendingEntries, schedulesRuns, searchDone } from './sweeps-schedule.js';
import { setState, sweepByName, sweepConfig, type SweepRow } from './sweeps-store.js';
import type { SweepConfig } from './sweeps-config.js';
import { newWandbRunId } from './upsert.js';

// The agent's heartbeat: every few seconds `wandb agent` reports which of its runs are alive and
// gets commands back (run, stop, exit). Each heartbeat holds the sweep's row lock while it decides,
// so agents racing for work are served one at a time and never get the same grid point.

export type AgentCommand =
  | { type: 'run'; run_id: string; program: string | null; args: Record<string, { value: unknown }> }
  | { type: 'stop'; run_id: string }
  | { type: 'exit' };

/** A trial with the W&B run it started (absent until the run's first upsert). */
export interface TrialRow {
  run_name: string;
  agent_id: number;
  args: string;
  grid_key: string | null;
  state: 'assigned' | 'lost' | 'retried';
  should_stop: boolean;
  agent_heartbeat_at: number;
  run_id: string | null;
  run_state: string | null;
  run_heartbeat_at: number | null;
  summary: string | null;
  created_at: number;
}

const DONE = new Set(['finished', 'failed', 'crashed', 'killed']);

export async function sweepTrials(db: Orm, sweep: string): Promise<TrialRow[]> {
  const found = await rows<TrialRow>(
    db,
    sql`select t.run_name, t.agent_id, t.args, t.grid_key, t.state, t.should_stop, a.heartbeat_at as agent_heartbeat_at,
               w.run_id, w.state as run_state, w.heartbeat_at as run_heartbeat_at, w.summary, t.created_at
        from wandb_sweep_trials t
        join wandb_sweep_agents a on a.id = t.agent_id
        join wandb_sweeps s on s.name = t.sweep
        left join wandb_runs w on w.experiment_id = s.experiment_id and w.name = t.run_name
        where t.sweep = ${sweep} order by t.created_at, t.run_name`,
  );
  return found.map((t) => ({
    ...t,
    agent_id: Number(t.agent_id),
    agent_heartbeat_at: Number(t.agent_heartbeat_at),
    run_heartbeat_at: t.run_heartbeat_at === null ? null : Number(t.run_heartbeat_at),
    created_at: Number(t.created_at),
  }));
}

const runDone = (t: TrialRow, now: number) =>
  t.run_state !== null && (DONE.has(t.run_state) || now - (t.run_heartbeat_at ?? 0) > CRASH_AFTER_MS);

/**
 * The agent is gone and so is its run (never started, or silent too): nobody will finish it.
 * `lostAfter` is --wandb-agent-timeout.
 */
const isLost = (t: TrialRow, now: number, lostAfter: number) =>
  t.state === 'assigned' &&
  now - t.agent_heartbeat_at > lostAfter &&
  (t.run_state === null || (t.run_state === 'running' && now - (t.run_heartbeat_at ?? 0) > lostAfter) || t.run_state === 'crashed');

/** A trial whose run may still report: it holds the sweep open. */
const isOutstanding = (t: TrialRow, now: number, lostAfter: number) => t.state === 'assigned' && !runDone(t, now) && !isLost(t, now, lostAfter);

function metricValue(config: SweepConfig, t: TrialRow): number | undefined {
  if (!config.metric || !t.summary) return undefined;
  const v = flattenRow(parseWandbObject(t.summary, 'summary'))[config.metric.name];
  return typeof v === 'number' && !Number.isNaN(v) ? signed(config, v) : undefined;
}

export async function agentHeartbeat(deps: Deps, agentId: string, runState: Record<string, unknown>, rng: Rng): Promise<AgentCommand[]> {
  const id = Number(agentId);
  if (!Number.isSafeInteger(id)) throw notFound(`Agent ${agentId} not found`);
  const now = deps.now();
  const lostAfter = deps.config.wandbAgentTimeoutMs;
  return deps.db.transaction(async (tx) => {
    const [agent] = await rows<{ sweep: string }>(tx, sql`update wandb_sweep_agents set heartbeat_at = ${now} where id = ${id} returning sweep`);
    if (!agent) throw notFound(`Agent ${agentId} not found`);
    const sweep = (await sweepByName(tx, agent.sweep, true))!;
    const txDeps = { ...deps, db: tx };
    const config = sweepConfig(sweep);
    let trials = await sweepTrials(tx, sweep.name);
    const lost = trials.filter((t) => isLost(t, now, lostAfter));
    if (lost.length) {
      await tx.execute(sql`update wandb_sweep_trials set state = 'lost', grid_key = null
        where sweep = ${sweep.name} and run_name = any(${textArray(lost.map((t) => t.run_name))}::text[])`);
      await endRuns(txDeps, lost, 'crashed');
      trials = await sweepTrials(tx, sweep.name);
    }
    const mine = new Set(trials.filter((t) => t.agent_id === id).map((t) => t.run_name));
    const alive = Object.entries(runState ?? {})
      .filter(([name, on]) => on && mine.has(name))
      .map(([name]) => name);
    const commands: AgentCommand[] = [];

    if (sweep.state === 'CANCELED') {
      await endRuns(txDeps, trials.filter((t) => alive.includes(t.run_name)), 'killed');
      return [...alive.map((run_id) => ({ type: 'stop' as const, run_id })), { type: 'exit' }];
    }
    const toStop = await stopsToSend(txDeps, sweep, config, trials, now);
    for (const t of trials) if (alive.includes(t.run_name) && (t.should_stop || toStop.has(t.run_name))) commands.push({ type: 'stop', run_id: t.run_name });
    if (sweep.state === 'FINISHED') return alive.length ? commands : [{ type: 'exit' }];
    if (sweep.state !== 'RUNNING' || alive.length) return commands;

    const next = await nextTrial(txDeps, sweep, config, trials, id, rng);
    if (next === 'wait') return commands;
    if (next) return [...commands, next];
    if (!trials.some((t) => isOutstanding(t, now, lostAfter))) await setState(txDeps, sweep, 'FINISHED');
    return [...commands, { type: 'exit' }];
  });
}

/**
 * Hands a lost trial's parameters out again, else the local controller's next scheduled run, else
 * asks the search for new ones. 'wait': a scheduled sweep whose controller has not sent more yet.
 */
async function nextTrial(deps: Deps, sweep: SweepRow, config: SweepConfig, trials: TrialRow[], agentId: number, rng: Rng): Promise<AgentCommand | 'wait' | undefined> {
  const active = trials.filter((t) => t.state === 'assigned');
  let args: Record<string, { value: unknown }>;
  let gridKey: string | null = null;
  let retryOf: string | null = null;
  let scheduleId: string | undefined;
  const orphan = trials.find((t) => t.state === 'lost');
  if (orphan) {
    args = JSON.parse(orphan.args);
    retryOf = orphan.run_name;
    if (config.method === 'grid' && !schedulesRuns(config)) gridKey = pointKey(unwrap(args));
    await deps.db.execute(sql`update wandb_sweep_trials set state = 'retried' where sweep = ${sweep.name} and run_name = ${orphan.run_name}`);
  } else if (schedulesRuns(config)) {
    const controller = parseController(sweep.controller);
    const [entry] = pendingEntries(controller, parseScheduler(sweep.scheduler));
    if (!entry || entry.args === null) return searchDone(controller) ? undefined : 'wait';
    args = entry.args;
    scheduleId = entry.id;
  } else {
    const prior = await priorObservations(deps.db, sweep, config);
    const observations = [
      ...prior.observations,
      ...active.flatMap((t) => {
        const y = metricValue(config, t);
        return y === undefined || !runDone(t, deps.now()) ? [] : [{ suggestion: unwrap(JSON.parse(t.args)), y }];
      }),
    ];
    const taken = new Set([...prior.gridKeys, ...active.map((t) => t.grid_key).filter((k): k is string => k !== null)]);
    const proposal = proposeNext(config, { taken, observations, trialCount: active.length }, rng);
    if (!proposal) return undefined;
    args = toArgs(proposal.suggestion);
    gridKey = proposal.gridKey ?? null;
  }
  const runName = newWandbRunId();
  await deps.db.execute(sql`insert into wandb_sweep_trials (sweep, run_name, agent_id, args, grid_key, retry_of, created_at)
    values (${sweep.name}, ${runName}, ${agentId}, ${JSON.stringify(args)}, ${gridKey}, ${retryOf}, ${deps.now()})`);
  if (scheduleId) {
    const scheduler = parseScheduler(sweep.scheduler);
    scheduler.scheduled.push({ id: scheduleId, runid: runName });
    await deps.db.execute(sql`update wandb_sweeps set scheduler = ${JSON.stringify(scheduler)} where name = ${sweep.name}`);
  }
  return { type: 'run', run_id: runName, program: config.program ?? null, args };
}

/** Runs to stop: those hyperband stops now, or those a local controller listed in `earlystop`. */
async function stopsToSend(deps: Deps, sweep: SweepRow, config: SweepConfig, trials: TrialRow[], now: number): Promise<Set<string>> {
  if (schedulesRuns(config)) {
    const wanted = new Set(parseController(sweep.controller).earlystop);
    const names = trials.filter((t) => wanted.has(t.run_name) && t.state === 'assigned' && !t.should_stop && !runDone(t, now));
    for (const t of names) {
      await deps.db.execute(sql`update wandb_sweep_trials set should_stop = true, stop_reason = 'the local controller asked to stop it'
        where sweep = ${sweep.name} and run_name = ${t.run_name}`);
    }
    await endRuns(deps, names, 'killed');
    return new Set(names.map((t) => t.run_name));
  }
  return config.earlyTerminate && config.metric ? earlyStops(deps, sweep, config, trials, now) : new Set();
}

const unwrap = (args: Record<string, { value: unknown }>): Suggestion => Object.fromEntries(Object.entries(args).map(([k, v]) => [k, v.value]));

/** Runs hyperband says to stop now; marks them, so their end is recorded as killed. */
async function earlyStops(deps: Deps, sweep: SweepRow, config: SweepConfig, trials: TrialRow[], now: number): Promise<Set<string>> {
  const withRuns = trials.filter((t) => t.run_id !== null && t.state === 'assigned');
  if (!withRuns.length) return new Set();
  const tx = deps.db;
  const points = await rows<{ run_id: string; value: number }>(
    tx,
    sql`select run_id, value from metrics where run_id = any(${textArray(withRuns.map((t) => t.run_id!))}::text[]) and key = ${config.metric!.name}
        order by run_id, step, timestamp`,
  );
  const histories = new Map<string, number[]>();
  for (const p of points) (histories.get(p.run_id) ?? histories.set(p.run_id, []).get(p.run_id)!).push(Number(p.value));
  const decisions = hyperbandStops(
    config.earlyTerminate!,
    config.metric!.goal,
    withRuns.map((t) => ({ name: t.run_name, history: histories.get(t.run_id!) ?? [], running: !runDone(t, now) && !t.should_stop })),
  );
  for (const d of decisions) {
    const reason = `hyperband: ${config.metric!.name} ${d.value} at band ${d.band} is worse than the threshold ${d.threshold}`;
    await tx.execute(sql`update wandb_sweep_trials set should_stop = true, stop_reason = ${reason} where sweep = ${sweep.name} and run_name = ${d.name}`);
  }
  const names = new Set(decisions.map((d) => d.name));
  await endRuns(deps, withRuns.filter((t) => names.has(t.run_name)), 'killed');
  return names;
}

/**
 * Ends runs as W&B ends them: killed (MLflow KILLED) when the sweep stops them, done when the stop
 * is sent because a terminated training process often never reports its own end; crashed (MLflow
 * FAILED) when their agent and run both fell silent and the trial is handed to another agent.
 */
async function endRuns(deps: Deps, trials: TrialRow[], state: 'killed' | 'crashed'): Promise<void> {
  for (const t of trials) {
    if (!t.run_id || t.run_state !== 'running') continue;
    await deps.db.execute(sql`update wandb_runs set state = ${state} where run_id = ${t.run_id} and state = 'running'`);
    await updateRun(deps, { run_id: t.run_id, status: state === 'killed' ? 'KILLED' : 'FAILED', end_time: deps.now() });
  }
}

/**
 * A sweep whose search is exhausted (grid done, run_cap reached) finishes once its last run ends,
 * even if no agent asks again; the readers call this before answering.
 */
export async function settleSweepState(deps: Deps, sweep: SweepRow): Promise<SweepRow> {
  if (sweep.state !== 'RUNNING') return sweep;
  const config = sweepConfig(sweep);
  const scheduled = schedulesRuns(config);
  if (!scheduled && config.method !== 'grid' && config.runCap === undefined) return sweep;
  const now = deps.now();
  const trials = await sweepTrials(deps.db, sweep.name);
  const lostAfter = deps.config.wandbAgentTimeoutMs;
  // A lost trial (marked so or not yet: only a heartbeat marks it) will be handed out again.
  if (trials.some((t) => isOutstanding(t, now, lostAfter) || t.state === 'lost' || isLost(t, now, lostAfter))) return sweep;
  if (scheduled) {
    // The local controller waits for this: it stops once the sweep is no longer running.
    const controller = parseController(sweep.controller);
    const [next] = pendingEntries(controller, parseScheduler(sweep.scheduler));
    if (!searchDone(controller) || (next && next.args !== null)) return sweep;
  } else {
    const active = trials.filter((t) => t.state === 'assigned');
    const prior = await priorObservations(deps.db, sweep, config);
    const taken = new Set([...prior.gridKeys, ...active.map((t) => t.grid_key).filter((k): k is string => k !== null)]);
    if (proposeNext(config, { taken, observations: [], trialCount: active.length }, Math.random)) return sweep;
  }
  await setState(deps, sweep, 'FINISHED');
  return (await sweepByName(deps.db, sweep.name))!;
}
