import { isPlainObject } from './json.js';
import type { SweepConfig } from './sweeps-config.js';

// The local controller's protocol (`wandb controller`, `wandb.controller(...).run()`): the client
// runs the search and writes its wishes into the sweep's `controller` JSON through UpsertSweep:
//   {schedule: [{id, data: {args: {name: {value}} | null}}], earlystop: [run name, ...]}
// The server hands each schedule entry to one agent as a run and answers in `scheduler`:
//   {scheduled: [{id, runid}]}
// which the controller reads back (SweepWithRuns) to drop entries once their run has started.
// `args: null` is the controller saying its search is done. A `method: custom` sweep is run the
// same way: only scheduled runs, never a server-side search.

export type RunArgs = Record<string, { value: unknown }>;
export interface ScheduleEntry {
  id: string;
  args: RunArgs | null;
}
export interface ControllerDoc {
  schedule: ScheduleEntry[];
  earlystop: string[];
}
export interface SchedulerDoc {
  scheduled: { id: string; runid: string }[];
}

/** True when the sweep's runs come from a client's schedule rather than the server's search. */
export const schedulesRuns = (config: SweepConfig) => config.controller === 'local' || config.method === 'custom';

function parseJson(text: string | null): unknown {
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}

/** Reads what the controller sent, keeping only well-formed entries (bad ones are never run). */
export function parseController(text: string | null): ControllerDoc {
  const doc = parseJson(text);
  if (!isPlainObject(doc)) return { schedule: [], earlystop: [] };
  const schedule = (Array.isArray(doc.schedule) ? doc.schedule : []).flatMap((e): ScheduleEntry[] => {
    if (!isPlainObject(e) || typeof e.id !== 'string' || !e.id) return [];
    const args = isPlainObject(e.data) ? e.data.args : undefined;
    if (args === null || args === undefined) return [{ id: e.id, args: null }];
    return isPlainObject(args) ? [{ id: e.id, args: toRunArgs(args) }] : [];
  });
  const earlystop = (Array.isArray(doc.earlystop) ? doc.earlystop : []).filter((n): n is string => typeof n === 'string');
  return { schedule, earlystop };
}

// The controller sends a run's config as the agent gets it ({name: {value}}); a bare value is
// wrapped so the agent's command is always well-formed.
const toRunArgs = (args: Record<string, unknown>): RunArgs =>
  Object.fromEntries(Object.entries(args).map(([k, v]) => [k, isPlainObject(v) && 'value' in v ? { value: v.value } : { value: v }]));

export function parseScheduler(text: string | null): SchedulerDoc {
  const doc = parseJson(text);
  const list = isPlainObject(doc) && Array.isArray(doc.scheduled) ? doc.scheduled : [];
  return { scheduled: list.filter((s): s is { id: string; runid: string } => isPlainObject(s) && typeof s.id === 'string' && typeof s.runid === 'string') };
}

/** Schedule entries no agent has been given yet, in the order the controller listed them. */
export function pendingEntries(controller: ControllerDoc, scheduler: SchedulerDoc): ScheduleEntry[] {
  const given = new Set(scheduler.scheduled.map((s) => s.id));
  return controller.schedule.filter((e) => !given.has(e.id));
}

/** The controller has said it has nothing more to schedule. */
export const searchDone = (controller: ControllerDoc) => controller.schedule.some((e) => e.args === null);
