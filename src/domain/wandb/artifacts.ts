import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { rows, type Orm } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { invalidParam, notFound } from '../../errors.js';
import { ensureProject, findProject } from './projects.js';
import { readManifest } from './artifacts-blobs.js';

// W&B artifact versions: create (PENDING), upload manifest and files, commit (version number,
// `latest` and the requested aliases). The manifest digest addresses the contents: creating a
// version whose digest an existing committed version of the collection has returns that version,
// already COMMITTED, so the client uploads nothing and no new version appears.

export interface ArtifactRow {
  id: number;
  collection_id: number;
  collection_name: string;
  experiment_id: number;
  project: string;
  version_index: number | null;
  state: string;
  digest: string;
  type: string;
  description: string | null;
  metadata: string | null;
  run_id: string | null;
  client_id: string | null;
  size: number;
  file_count: number;
  history_step: number | null;
  created_at: number;
  updated_at: number;
  /** JSON list. */
  tags: string;
  ttl_seconds: number | null;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

export const artifactGid = (id: number) => b64(`Artifact:${id}`);
export const collectionGid = (id: number) => b64(`ArtifactCollection:${id}`);

/** The numeric id behind an Artifact ID (also accepts the bare number). */
export function parseArtifactGid(gid: unknown): number {
  if (typeof gid !== 'string') throw invalidParam('An artifact ID is required');
  const raw = /^\d+$/.test(gid) ? gid : Buffer.from(gid, 'base64').toString('utf8').replace(/^Artifact:/, '');
  if (!/^\d{1,15}$/.test(raw)) throw invalidParam(`Invalid artifact ID '${gid.slice(0, 64)}'`);
  return Number(raw);
}

// W&B's rule for artifact and type names, which also keeps '/', '..' and ':' out of them.
const NAME = /^[-\w]+([ ]*[-.\w]+)*$/;

export function validateArtifactName(kind: 'artifact' | 'type' | 'alias', name: unknown): string {
  if (typeof name !== 'string' || !name || name.length > 128 || !NAME.test(name) || name.includes('..')) {
    throw invalidParam(`Invalid ${kind} name '${String(name).slice(0, 130)}': use letters, digits, '-', '_' and '.' (no '/', '..' or ':'), at most 128 characters`);
  }
  return name;
}

const COLUMNS = sql`a.id, a.collection_id, c.name as collection_name, c.experiment_id, e.name as project, a.version_index, a.state, a.digest,
  a.type, a.description, a.metadata, a.run_id, a.client_id, a.size, a.file_count, a.history_step, a.created_at, a.updated_at, a.tags, a.ttl_seconds`;
const FROM = sql`wandb_artifacts a join wandb_artifact_collections c on c.id = a.collection_id join experiments e on e.experiment_id = c.experiment_id`;

function normalize(r: ArtifactRow): ArtifactRow {
  for (const k of ['id', 'collection_id', 'experiment_id', 'size', 'created_at', 'updated_at'] as const) r[k] = Number(r[k]);
  if (r.history_step !== null) r.history_step = Number(r.history_step);
  if (r.ttl_seconds !== null) r.ttl_seconds = Number(r.ttl_seconds);
  return r;
}

export async function select(db: Orm, where: ReturnType<typeof sql>): Promise<ArtifactRow[]> {
  return (await rows<ArtifactRow>(db, sql`select ${COLUMNS} from ${FROM} where ${where}`)).map(normalize);
}

export async function artifactById(db: Orm, id: number): Promise<ArtifactRow | undefined> {
  return (await select(db, sql`a.id = ${id} and a.state <> 'DELETED'`))[0];
}

export async function requireArtifact(db: Orm, gid: unknown): Promise<ArtifactRow> {
  const found = await artifactById(db, parseArtifactGid(gid));
  if (!found) throw notFound(`Artifact ${String(gid)} not found`);
  return found;
}

export async function artifactByClientId(db: Orm, clientId: string): Promise<ArtifactRow | undefined> {
  return (await select(db, sql`a.client_id = ${clientId} and a.state <> 'DELETED' order by a.id desc limit 1`))[0];
}

/**
 * A committed version by `name:alias`, `name:vN` or `name` (= latest) in a project; undefined when
 * there is none.
 */
export async function artifactByName(db: Orm, experimentId: number, spec: string): Promise<ArtifactRow | undefined> {
  const colon = spec.lastIndexOf(':');
  const name = colon < 0 ? spec : spec.slice(0, colon);
  const alias = colon < 0 ? 'latest' : spec.slice(colon + 1);
  const inCollection = sql`c.experiment_id = ${experimentId} and c.name = ${name} and not c.portfolio and a.state = 'COMMITTED'`;
  const version = /^v(\d{1,9})$/.exec(alias);
  if (version) return (await select(db, sql`${inCollection} and a.version_index = ${Number(version[1])}`))[0];
  return (await select(db, sql`${inCollection} and a.id = (select al.artifact_id from wandb_artifact_aliases al where al.collection_id = c.id and al.alias = ${alias})`))[0];
}

export async function collectionByName(db: Orm, experimentId: number, name: string): Promise<{ id: number; name: string; portfolio: boolean } | undefined> {
  const found = await rows<{ id: number; name: string; portfolio: boolean }>(db, sql`select id, name, portfolio from wandb_artifact_collections where experiment_id = ${experimentId} and name = ${name}`);
  return found[0] ? { id: Number(found[0].id), name: found[0].name, portfolio: found[0].portfolio === true } : undefined;
}

/** A version's aliases in one collection (its own, or a portfolio it is linked into). */
export async function aliasesOf(db: Orm, artifactId: number, collectionId: number): Promise<string[]> {
  const found = await rows<{ alias: string }>(db, sql`select alias from wandb_artifact_aliases where artifact_id = ${artifactId} and collection_id = ${collectionId} order by alias`);
  return found.map((r) => r.alias);
}

export async function latestOf(db: Orm, collectionId: number): Promise<ArtifactRow | undefined> {
  return (await select(db, sql`a.collection_id = ${collectionId} and a.state = 'COMMITTED' order by a.version_index desc limit 1`))[0];
}

export interface CreateArtifactInput {
  project: string;
  /** The project's entity (docs/teams.md#namespaces); without it, the experiment named `project`. */
  entity?: string;
  runId: string | null;
  type: string;
  name: string;
  digest: string;
  description?: string | null;
  metadata?: string | null;
  aliases: string[];
  clientId?: string | null;
  sequenceClientId?: string | null;
  historyStep?: number | null;
}

/** createArtifact: a new PENDING version, or the committed one with the same digest. */
export async function createArtifact(deps: Deps, input: CreateArtifactInput): Promise<{ artifact: ArtifactRow; created: boolean; projectCreated: boolean }> {
  const type = validateArtifactName('type', input.type);
  const name = validateArtifactName('artifact', input.name);
  for (const a of input.aliases) validateArtifactName('alias', a);
  if (!/^[0-9a-f]{32}$/i.test(input.digest) && !/^[A-Za-z0-9+/=]{1,128}$/.test(input.digest)) throw invalidParam(`Invalid artifact digest '${input.digest.slice(0, 64)}'`);
  if (input.metadata) {
    try {
      JSON.parse(input.metadata);
    } catch {
      throw invalidParam('Artifact metadata must be a JSON object');
    }
  }
  const { experimentId, created: projectCreated } = await ensureProject(deps, input.project, input.entity);
  const now = deps.now();
  return deps.db.transaction(async (tx) => {
    await tx.execute(sql`insert into wandb_artifact_collections (experiment_id, name, type, created_at) values (${experimentId}, ${name}, ${type}, ${now})
      on conflict (experiment_id, name) do nothing`);
    const [collection] = await rows<{ id: number; type: string }>(tx, sql`select id, type from wandb_artifact_collections where experiment_id = ${experimentId} and name = ${name} for update`);
    if (collection.type !== type) throw invalidParam(`Artifact '${name}' already exists with type '${collection.type}', not '${type}'`);
    const collectionId = Number(collection.id);
    const same = (await select(tx, sql`a.collection_id = ${collectionId} and a.digest = ${input.digest} and a.state = 'COMMITTED' order by a.version_index desc limit 1`))[0];
    if (same) {
      await setAliases(tx, collectionId, same.id, input.aliases);
      if (input.clientId) await tx.execute(sql`update wandb_artifacts set client_id = ${input.clientId} where id = ${same.id} and client_id is null`);
      return { artifact: same, created: false, projectCreated };
    }
    const [inserted] = await rows<{ id: number }>(
      tx,
      sql`insert into wandb_artifacts (collection_id, manifest_key, state, digest, type, description, metadata, run_id, client_id, sequence_client_id, pending_aliases, history_step, created_at, updated_at)
          values (${collectionId}, ${`wandb-artifacts/manifests/${randomUUID()}.json`}, 'PENDING', ${input.digest}, ${type}, ${input.description ?? null}, ${input.metadata ?? null}, ${input.runId}, ${input.clientId ?? null},
                  ${input.sequenceClientId ?? null}, ${JSON.stringify(input.aliases)}, ${input.historyStep ?? null}, ${now}, ${now}) returning id`,
    );
    return { artifact: (await select(tx, sql`a.id = ${Number(inserted.id)}`))[0], created: true, projectCreated };
  });
}

export async function setAliases(tx: Orm, collectionId: number, artifactId: number, aliases: string[]): Promise<void> {
  for (const alias of aliases) {
    await tx.execute(sql`insert into wandb_artifact_aliases (collection_id, alias, artifact_id) values (${collectionId}, ${alias}, ${artifactId})
      on conflict (collection_id, alias) do update set artifact_id = excluded.artifact_id`);
  }
}

/**
 * commitArtifact: reads the uploaded manifest, records its files, numbers the version and moves
 * `latest` and the requested aliases onto it. Committing twice is harmless.
 */
export async function commitArtifact(deps: Deps, artifact: ArtifactRow): Promise<ArtifactRow> {
  if (artifact.state === 'COMMITTED') return artifact;
  const manifest = await readManifest(deps, artifact.id);
  const now = deps.now();
  return deps.db.transaction(async (tx) => {
    await tx.execute(sql`select id from wandb_artifact_collections where id = ${artifact.collection_id} for update`);
    const [current] = await rows<{ state: string; pending_aliases: string }>(tx, sql`select state, pending_aliases from wandb_artifacts where id = ${artifact.id} for update`);
    if (current.state === 'COMMITTED') return (await select(tx, sql`a.id = ${artifact.id}`))[0];
    let size = 0;
    for (const f of manifest.files) {
      size += f.size;
      await tx.execute(sql`insert into wandb_artifact_files (artifact_id, path, md5, size, ref) values (${artifact.id}, ${f.path}, ${f.md5}, ${f.size}, ${f.ref ?? null})
        on conflict (artifact_id, path) do update set md5 = excluded.md5, size = excluded.size, ref = excluded.ref`);
    }
    const [next] = await rows<{ n: number }>(tx, sql`select coalesce(max(version_index) + 1, 0)::int as n from wandb_artifacts where collection_id = ${artifact.collection_id}`);
    await tx.execute(sql`update wandb_artifacts set state = 'COMMITTED', version_index = ${Number(next.n)}, size = ${size}, file_count = ${manifest.entryCount},
      updated_at = ${now} where id = ${artifact.id}`);
    const aliases = new Set<string>(['latest', ...(JSON.parse(current.pending_aliases) as string[])]);
    await setAliases(tx, artifact.collection_id, artifact.id, [...aliases]);
    return (await select(tx, sql`a.id = ${artifact.id}`))[0];
  });
}

/** useArtifact: records that a run used a version (lineage). */
export async function recordUse(deps: Deps, runId: string, artifactId: number, usedAs: string | null): Promise<void> {
  await deps.db.execute(sql`insert into wandb_artifact_usage (run_id, artifact_id, used_as, created_at) values (${runId}, ${artifactId}, ${usedAs}, ${deps.now()})
    on conflict (run_id, artifact_id) do nothing`);
}

/** The project an artifact id belongs to, for permission checks before anything else is read. */
export async function projectOfArtifact(deps: Deps, gid: unknown): Promise<string> {
  const a = await requireArtifact(deps.db, gid);
  return a.project;
}

export async function experimentOf(deps: Deps, project: string): Promise<number | undefined> {
  const found = await findProject(deps, project);
  return found && found.lifecycleStage === 'active' ? found.experimentId : undefined;
}

const MAX_LIST = 1000;

export function pageSize(first: number | null): number {
  const n = first ?? 50;
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIST) throw invalidParam(`first must be between 1 and ${MAX_LIST}, got ${n}`);
  return n;
}

export function afterId(after: string | null): number | null {
  if (after === null) return null;
  if (!/^\d{1,15}$/.test(after)) throw invalidParam(`Invalid cursor '${after.slice(0, 40)}'`);
  return Number(after);
}

export interface ArtifactPage {
  artifacts: ArtifactRow[];
  total: number;
  hasNextPage: boolean;
}

async function page(db: Orm, where: ReturnType<typeof sql>, order: ReturnType<typeof sql>, cursorCol: ReturnType<typeof sql>, after: number | null, first: number | null, desc: boolean): Promise<ArtifactPage> {
  const n = pageSize(first);
  const [{ total }] = await rows<{ total: number }>(db, sql`select count(*)::int as total from ${FROM} where ${where}`);
  const cursor = after === null ? sql`true` : desc ? sql`${cursorCol} < ${after}` : sql`${cursorCol} > ${after}`;
  const found = await select(db, sql`${where} and ${cursor} order by ${order} limit ${n + 1}`);
  return { artifacts: found.slice(0, n), total: Number(total), hasNextPage: found.length > n };
}

/** A collection's committed versions, newest first (api.artifacts(type, name)); the cursor is a version number. */
export function listVersions(db: Orm, collectionId: number, after: string | null, first: number | null): Promise<ArtifactPage> {
  return page(db, sql`a.collection_id = ${collectionId} and a.state = 'COMMITTED'`, sql`a.version_index desc`, sql`a.version_index`, afterId(after), first, true);
}

/** Versions a run logged (run.logged_artifacts()), oldest first; the cursor is an artifact id. */
export function runOutputs(db: Orm, runId: string, after: string | null, first: number | null): Promise<ArtifactPage> {
  return page(db, sql`a.run_id = ${runId} and a.state = 'COMMITTED'`, sql`a.id`, sql`a.id`, afterId(after), first, false);
}

/** Versions a run used (run.used_artifacts()), oldest first. */
export function runInputs(db: Orm, runId: string, after: string | null, first: number | null): Promise<ArtifactPage> {
  return page(db, sql`a.state = 'COMMITTED' and a.id in (select u.artifact_id from wandb_artifact_usage u where u.run_id = ${runId})`, sql`a.id`, sql`a.id`, afterId(after), first, false);
}

export async function collectionInProject(db: Orm, experimentId: number, type: string, name: string): Promise<{ id: number; name: string; portfolio: boolean } | undefined> {
  const found = await rows<{ id: number; name: string; portfolio: boolean }>(db, sql`select id, name, portfolio from wandb_artifact_collections where experiment_id = ${experimentId} and name = ${name} and type = ${type}`);
  return found[0] ? { id: Number(found[0].id), name: found[0].name, portfolio: found[0].portfolio === true } : undefined;
}

/**
 * artifact.delete(): the version is marked DELETED (it stops resolving by name, alias or id) and
 * its aliases go. A version that still has aliases other than `latest` needs deleteAliases, as in
 * W&B. Its version number is not reused. The blobs stay: other versions may share them.
 */
export async function deleteArtifact(deps: Deps, artifact: ArtifactRow, deleteAliases: boolean): Promise<ArtifactRow> {
  return deps.db.transaction(async (tx) => {
    await tx.execute(sql`select id from wandb_artifact_collections where id = ${artifact.collection_id} for update`);
    const aliases = (await aliasesOf(tx, artifact.id, artifact.collection_id)).filter((a) => a !== 'latest');
    if (aliases.length && !deleteAliases) {
      throw invalidParam(`Artifact ${artifact.collection_name}:v${artifact.version_index} has aliases (${aliases.join(', ')}); pass delete_aliases=True to delete it`);
    }
    await tx.execute(sql`delete from wandb_artifact_aliases where artifact_id = ${artifact.id}`);
    await tx.execute(sql`update wandb_artifacts set state = 'DELETED', updated_at = ${deps.now()} where id = ${artifact.id}`);
    // `latest` falls back to the newest version still there.
    const [newest] = await rows<{ id: number }>(tx, sql`select id from wandb_artifacts where collection_id = ${artifact.collection_id} and state = 'COMMITTED' order by version_index desc limit 1`);
    if (newest) {
      await tx.execute(sql`insert into wandb_artifact_aliases (collection_id, alias, artifact_id) values (${artifact.collection_id}, 'latest', ${Number(newest.id)})
        on conflict (collection_id, alias) do update set artifact_id = excluded.artifact_id`);
    }
    return { ...artifact, state: 'DELETED' };
  });
}

/**
 * run.delete(delete_artifacts=True): every version the run logged is deleted as artifact.delete()
 * with delete_aliases would (W&B deletes the run's output artifacts; those it only used stay).
 * Returns how many.
 */
export async function deleteRunArtifacts(deps: Deps, runId: string): Promise<number> {
  const logged = await select(deps.db, sql`a.run_id = ${runId} and a.state <> 'DELETED' order by a.id`);
  for (const a of logged) await deleteArtifact(deps, a, true);
  return logged.length;
}

/** artifact.save() of a committed version: description and metadata (null leaves a field as is). */
export async function updateArtifact(deps: Deps, artifact: ArtifactRow, patch: { description?: string | null; metadata?: string | null }): Promise<ArtifactRow> {
  if (patch.metadata) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(patch.metadata);
    } catch {
      parsed = undefined;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalidParam('Artifact metadata must be a JSON object');
  }
  await deps.db.execute(sql`update wandb_artifacts set description = coalesce(${patch.description ?? null}, description),
    metadata = coalesce(${patch.metadata ?? null}, metadata), updated_at = ${deps.now()} where id = ${artifact.id}`);
  return (await artifactById(deps.db, artifact.id))!;
}

/**
 * Alias edits from artifact.save(): an added alias moves onto this version from wherever it was;
 * a removed one goes only if this version holds it. `latest` is the server's: always the newest.
 */
export async function editAliases(deps: Deps, artifact: ArtifactRow, add: string[], remove: string[]): Promise<void> {
  if (artifact.state !== 'COMMITTED') throw invalidParam('Aliases can only be edited on a committed artifact version');
  for (const a of [...add, ...remove]) {
    validateArtifactName('alias', a);
    if (a === 'latest') throw invalidParam("The alias 'latest' always names the newest version and cannot be moved or removed");
    if (/^v\d+$/.test(a)) throw invalidParam(`'${a}' is a version, not an alias`);
  }
  await deps.db.transaction(async (tx) => {
    await setAliases(tx, artifact.collection_id, artifact.id, add);
    for (const a of remove) await tx.execute(sql`delete from wandb_artifact_aliases where collection_id = ${artifact.collection_id} and alias = ${a} and artifact_id = ${artifact.id}`);
  });
}
