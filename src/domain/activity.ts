import { sql } from 'drizzle-orm';
import { rows, type Orm } from '../db/connect.js';

// The activity record of runs (docs/teams.md#activity): who created a run and who changed its
// tags, notes or stage, or moved it, from either client. Written beside the change it records, by
// the route that knows the caller; read by the run page and an experiment's activity list.

export type ActivityKind = 'created' | 'tags' | 'notes' | 'stage' | 'moved';

export interface ActivityEvent {
  run_id: string;
  run_name?: string;
  kind: ActivityKind;
  username: string | null;
  detail: string | null;
  at: number;
}

const NOTE_TAG = 'mlflow.note.content';
// System tags the clients write as bookkeeping (run name, source, W&B mirror fields): not a
// person's tag change. W&B's own tag list (`wandb.tags`) is one.
const isUserTag = (key: string) => key === 'wandb.tags' || !/^(mlflow|wandb|cairn)\./.test(key);

/** What a batch of tag keys changes: notes, tags, both or neither. */
export function tagActivity(keys: string[]): ActivityKind[] {
  const out: ActivityKind[] = [];
  if (keys.includes(NOTE_TAG)) out.push('notes');
  if (keys.some(isUserTag)) out.push('tags');
  return out;
}

/** A run's notes and W&B tag list as they are, to tell which of them a W&B run.update() changed. */
export async function notesAndTags(db: Orm, runId: string): Promise<Map<string, string>> {
  const found = await rows<{ key: string; value: string }>(db, sql`select key, value from run_tags where run_id = ${runId} and key in (${NOTE_TAG}, 'wandb.tags')`);
  return new Map(found.map((r) => [r.key, r.value]));
}

/** What differs between two notesAndTags() snapshots (run.update() always resends both). */
export function changedBetween(before: Map<string, string>, after: Map<string, string>): ActivityKind[] {
  return tagActivity([NOTE_TAG, 'wandb.tags'].filter((k) => before.get(k) !== after.get(k)));
}

/** Records `kinds` on a run (a no-op for none, or for a run that does not exist). */
export async function recordActivity(db: Orm, runId: string, kinds: ActivityKind[], username: string | null | undefined, at: number, detail?: string): Promise<void> {
  for (const kind of kinds) {
    await db.execute(sql`insert into run_activity (run_id, experiment_id, kind, username, detail, at)
                         select run_id, experiment_id, ${kind}, ${username ?? null}, ${detail ?? null}, ${at} from runs where run_id = ${runId}`);
  }
}

type Raw = { run_id: string; run_name?: string; kind: ActivityKind; username: string | null; detail: string | null; at: number | string };
const event = (r: Raw): ActivityEvent => ({ ...r, at: Number(r.at) });

/** A run's record, oldest first (the page shows the creator and the last change of each kind). */
export async function runActivity(db: Orm, runId: string): Promise<ActivityEvent[]> {
  return (await rows<Raw>(db, sql`select run_id, kind, username, detail, at from run_activity where run_id = ${runId} order by at, id`)).map(event);
}

/** An experiment's record, newest first, with each run's name. */
export async function experimentActivity(db: Orm, experimentId: number, limit: number): Promise<ActivityEvent[]> {
  const found = await rows<Raw>(
    db,
    sql`select a.run_id, r.name as run_name, a.kind, a.username, a.detail, a.at from run_activity a join runs r on r.run_id = a.run_id
        where a.experiment_id = ${experimentId} order by a.at desc, a.id desc limit ${limit}`,
  );
  return found.map(event);
}
