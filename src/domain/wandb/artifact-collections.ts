import { sql } from 'drizzle-orm';
import { rows } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { alreadyExists, invalidParam, notFound } from '../../errors.js';
import type { Orm } from '../../db/connect.js';
import { validateArtifactName } from './artifacts.js';
import { tagNames } from './artifact-tags-ttl.js';

// Artifact collections as objects of their own (`api.artifact_collections`,
// `api.artifact_collection`, `collection.save()` / `.delete()`): a sequence (the versions one
// name logged) or a portfolio (versions linked into it). Description and tags live on the row.

export interface CollectionRow {
  id: number;
  experiment_id: number;
  project: string;
  name: string;
  type: string;
  portfolio: boolean;
  description: string | null;
  tags: string;
  created_at: number;
  updated_at: number | null;
}

const COLUMNS = sql`c.id, c.experiment_id, e.name as project, c.name, c.type, c.portfolio, c.description, c.tags, c.created_at, c.updated_at`;
const FROM = sql`wandb_artifact_collections c join experiments e on e.experiment_id = c.experiment_id`;

const normalize = (r: CollectionRow): CollectionRow => ({
  ...r,
  id: Number(r.id),
  experiment_id: Number(r.experiment_id),
  created_at: Number(r.created_at),
  updated_at: r.updated_at === null ? null : Number(r.updated_at),
});

export function parseCollectionGid(gid: unknown): number {
  const raw = typeof gid === 'string' ? Buffer.from(gid, 'base64').toString('utf8') : '';
  const m = /^ArtifactCollection:(\d{1,15})$/.exec(raw);
  if (!m) throw invalidParam(`Invalid artifact collection ID '${String(gid).slice(0, 64)}'`);
  return Number(m[1]);
}

export async function collectionById(db: Orm, id: number): Promise<CollectionRow | undefined> {
  return (await rows<CollectionRow>(db, sql`select ${COLUMNS} from ${FROM} where c.id = ${id}`)).map(normalize)[0];
}

export async function requireCollection(db: Orm, gid: unknown): Promise<CollectionRow> {
  const found = await collectionById(db, parseCollectionGid(gid));
  if (!found) throw notFound(`Artifact collection ${String(gid).slice(0, 64)} not found`);
  return found;
}

export async function collectionRowByName(db: Orm, experimentId: number, name: string): Promise<CollectionRow | undefined> {
  return (await rows<CollectionRow>(db, sql`select ${COLUMNS} from ${FROM} where c.experiment_id = ${experimentId} and c.name = ${name}`)).map(normalize)[0];
}

const MAX_PAGE = 1000;

/** A project's collections (of one type when given), oldest first, by id cursor. */
export async function listCollections(
  db: Orm,
  experimentId: number,
  opts: { type: string | null; after: string | null; first: number | null },
): Promise<{ collections: CollectionRow[]; total: number; hasNextPage: boolean }> {
  const first = opts.first ?? 50;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) throw invalidParam(`first must be between 1 and ${MAX_PAGE}, got ${first}`);
  const conds = [sql`c.experiment_id = ${experimentId}`];
  if (opts.type !== null) conds.push(sql`c.type = ${opts.type}`);
  const where = sql.join(conds, sql` and `);
  const after = opts.after && /^\d{1,15}$/.test(opts.after) ? Number(opts.after) : 0;
  const found = (await rows<CollectionRow>(db, sql`select ${COLUMNS} from ${FROM} where ${where} and c.id > ${after} order by c.id limit ${first + 1}`)).map(normalize);
  const [{ n }] = await rows<{ n: number }>(db, sql`select count(*)::int as n from wandb_artifact_collections c where ${where}`);
  return { collections: found.slice(0, first), total: Number(n), hasNextPage: found.length > first };
}

/** `collection.save()`: a new name (unique in the project) and description. */
export async function updateCollection(deps: Deps, c: CollectionRow, patch: { name: string | null; description: string | null }): Promise<CollectionRow> {
  const name = patch.name && patch.name !== c.name ? validateArtifactName('artifact', patch.name) : c.name;
  if (name !== c.name && (await collectionRowByName(deps.db, c.experiment_id, name))) throw alreadyExists(`Artifact collection '${name}' already exists in project '${c.project}'`);
  await deps.db.execute(sql`update wandb_artifact_collections set name = ${name}, description = ${patch.description ?? c.description}, updated_at = ${deps.now()} where id = ${c.id}`);
  return (await collectionById(deps.db, c.id))!;
}

/** `collection.delete()`: the collection, its versions, aliases, links and lineage (rows cascade); the bytes stay (shared by MD5). */
export async function deleteCollection(deps: Deps, c: CollectionRow): Promise<void> {
  await deps.db.execute(sql`delete from wandb_artifact_collections where id = ${c.id}`);
}

/** `collection.tags` edits saved by `collection.save()`. */
export async function editCollectionTags(deps: Deps, c: CollectionRow, edit: { add?: unknown; remove?: unknown }): Promise<string[]> {
  const add = tagNames(edit.add);
  const remove = tagNames(edit.remove);
  return deps.db.transaction(async (tx) => {
    const [found] = await rows<{ tags: string }>(tx, sql`select tags from wandb_artifact_collections where id = ${c.id} for update`);
    if (!found) throw notFound(`Artifact collection '${c.name}' not found`);
    const current: string[] = JSON.parse(found.tags);
    const next = [...current.filter((t) => !remove.includes(t)), ...add.filter((t) => !current.includes(t))];
    if (next.length > 100) throw invalidParam('An artifact collection has at most 100 tags');
    await tx.execute(sql`update wandb_artifact_collections set tags = ${JSON.stringify(next)}, updated_at = ${deps.now()} where id = ${c.id}`);
    return next;
  });
}
