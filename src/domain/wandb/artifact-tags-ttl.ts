import { sql } from 'drizzle-orm';
import { rows } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { invalidParam } from '../../errors.js';

// A version's tags (`artifact.tags`, `log_artifact(..., tags=…)`) and TTL (`artifact.ttl`), as
// wandb 0.31 sends them: tags as {tagName} lists to add and delete, the TTL as seconds, with -1 for
// "inherit" (the default) and -2 for "disabled" (`ttl = None`). The TTL is kept and reported; Cairn
// does not delete versions when it runs out (docs/wandb.md says so).

const TAG = /^[-\w]+([ ]*[-.\w]+)*$/;
const MAX_TAGS = 100;
const INHERIT = -1;
const DISABLED = -2;

export function tagNames(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  const names = (list as { tagName?: unknown }[]).map((t) => t?.tagName);
  for (const n of names) {
    if (typeof n !== 'string' || !n || n.length > 128 || !TAG.test(n)) {
      throw invalidParam(`Invalid tag '${String(n).slice(0, 130)}': use letters, digits, spaces, '-', '_' and '.', at most 128 characters`);
    }
  }
  return [...new Set(names as string[])];
}

/** The stored TTL for what the client sent: undefined leaves it as it is. */
function ttlValue(seconds: unknown): number | null | undefined {
  if (seconds === undefined || seconds === null) return undefined;
  const n = Number(seconds);
  if (n === INHERIT) return null;
  if (n === DISABLED) return DISABLED;
  if (!Number.isSafeInteger(n) || n <= 0) throw invalidParam(`Invalid ttlDurationSeconds ${String(seconds).slice(0, 40)}: a positive number of seconds, -1 (inherit) or -2 (disabled)`);
  return n;
}

/** Applies tag edits and a TTL change to a version (at creation and by `artifact.save()`). */
export async function editTagsAndTtl(deps: Deps, artifactId: number, edit: { add?: unknown; remove?: unknown; ttl?: unknown }): Promise<void> {
  const add = tagNames(edit.add);
  const remove = tagNames(edit.remove);
  const ttl = ttlValue(edit.ttl);
  if (!add.length && !remove.length && ttl === undefined) return;
  await deps.db.transaction(async (tx) => {
    const [found] = await rows<{ tags: string }>(tx, sql`select tags from wandb_artifacts where id = ${artifactId} for update`);
    const current: string[] = JSON.parse(found.tags);
    const next = [...current.filter((t) => !remove.includes(t)), ...add.filter((t) => !current.includes(t))];
    if (next.length > MAX_TAGS) throw invalidParam(`An artifact version has at most ${MAX_TAGS} tags`);
    await tx.execute(sql`update wandb_artifacts set tags = ${JSON.stringify(next)}, updated_at = ${deps.now()}
      ${ttl === undefined ? sql`` : sql`, ttl_seconds = ${ttl}`} where id = ${artifactId}`);
  });
}

/** What the Artifact type reports. */
export const ttlFields = (ttlSeconds: number | null) => ({ ttlDurationSeconds: ttlSeconds ?? INHERIT, ttlIsInherited: ttlSeconds === null });
