import fs from 'node:fs';
import path from 'node:path';

export const MIGRATIONS = path.resolve(import.meta.dirname, '../../migrations');

/**
 * A copy of migrations/ in `dir` that stops before the migration tagged `stopAt`: migrating with
 * it gives the schema an older Cairn wrote, to fill as that version would.
 */
export function migrationsBefore(dir: string, stopAt: string): string {
  fs.mkdirSync(path.join(dir, 'meta'), { recursive: true });
  const journal = JSON.parse(fs.readFileSync(path.join(MIGRATIONS, 'meta/_journal.json'), 'utf8'));
  const cut = journal.entries.findIndex((e: { tag: string }) => e.tag === stopAt);
  if (cut < 0) throw new Error(`no migration ${stopAt}`);
  journal.entries = journal.entries.slice(0, cut);
  for (const e of journal.entries) fs.copyFileSync(path.join(MIGRATIONS, `${e.tag}.sql`), path.join(dir, `${e.tag}.sql`));
  fs.writeFileSync(path.join(dir, 'meta/_journal.json'), JSON.stringify(journal));
  return dir;
}
