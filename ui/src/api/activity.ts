import { get } from './client';

// Who created runs and who changed their tags, notes or stage or moved them (docs/teams.md#activity).

export interface ActivityEvent {
  run_id: string;
  run_name?: string;
  kind: 'created' | 'tags' | 'notes' | 'stage' | 'moved';
  username: string | null;
  detail: string | null;
  at: number;
}

export const runActivity = (runId: string) => get<{ events: ActivityEvent[] }>('2.0/cairn/ui/runs/activity', { run_id: runId }).then((r) => r.events);
export const experimentActivity = (experimentId: string) =>
  get<{ events: ActivityEvent[] }>('2.0/cairn/ui/experiments/activity', { experiment_id: experimentId }).then((r) => r.events);

/** How an event reads in a sentence: "changed the notes", "deleted the run". */
export function describe(e: ActivityEvent): string {
  if (e.kind === 'created') return 'created the run';
  if (e.kind === 'stage') return e.detail === 'restored' ? 'restored the run' : 'deleted the run';
  if (e.kind === 'moved') return `moved the run here from ${e.detail ?? 'another experiment'}`;
  return `changed the ${e.kind}`;
}
