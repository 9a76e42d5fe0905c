import { sql } from 'drizzle-orm';
import { rows, type Orm } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { invalidParam } from '../../errors.js';
import { afterId, artifactByName, collectionByName, pageSize, select, setAliases, validateArtifactName, type ArtifactRow } from './artifacts.js';
import { ensureProject } from './projects.js';

// Portfolios: collections that hold versions logged elsewhere (`artifact.link()`, `run.link_artifact`,
// `run.link_model`, which links into project `model-registry`). A portfolio numbers its members
// v0, v1, … in link order and has its own aliases; the version itself stays where it was logged.

/** Where a version sits in a portfolio: which collection, and its number there. */
export interface LinkInfo {
  collectionId: number;
  name: string;
  experimentId: number;
  project: string;
  versionIndex: number;
}

/** A version as found by name: in its own collection, or (with `link`) as a member of a portfolio. */
export interface Member {
  a: ArtifactRow;
  link?: LinkInfo;
}

function splitSpec(spec: string): { name: string; alias: string } {
  const colon = spec.lastIndexOf(':');
  return colon < 0 ? { name: spec, alias: 'latest' } : { name: spec.slice(0, colon), alias: spec.slice(colon + 1) };
}

/** `name:alias`, `name:vN` or `name` (= latest) in a project, whether `name` is a collection or a portfolio. */
export async function memberByName(db: Orm, experimentId: number, project: string, spec: string): Promise<Member | undefined> {
  const { name, alias } = splitSpec(spec);
  const c = await collectionByName(db, experimentId, name);
  if (!c) return undefined;
  if (!c.portfolio) {
    const a = await artifactByName(db, experimentId, spec);
    return a ? { a } : undefined;
  }
  const version = /^v(\d{1,9})$/.exec(alias);
  const which = version
    ? sql`l.version_index = ${Number(version[1])}`
    : sql`l.artifact_id = (select al.artifact_id from wandb_artifact_aliases al where al.collection_id = ${c.id} and al.alias = ${alias})`;
  const found = await rows<{ artifact_id: number; version_index: number }>(db, sql`select l.artifact_id, l.version_index from wandb_artifact_links l where l.collection_id = ${c.id} and ${which}`);
  if (!found.length) return undefined;
  const [a] = await select(db, sql`a.id = ${Number(found[0].artifact_id)} and a.state = 'COMMITTED'`);
  return a ? { a, link: { collectionId: c.id, name: c.name, experimentId, project, versionIndex: Number(found[0].version_index) } } : undefined;
}

/**
 * Links a committed version into the portfolio `name` of `project` (created on first use). Linking
 * the same version again keeps its number there; a new member becomes `latest`. A name that is
 * already a collection of logged versions cannot become a portfolio.
 */
export async function linkArtifact(
  deps: Deps,
  artifact: ArtifactRow,
  target: { project: string; entity?: string; name: string; aliases: string[] },
): Promise<{ link: LinkInfo; projectCreated: boolean }> {
  if (artifact.state !== 'COMMITTED') throw invalidParam('Only a committed artifact version can be linked');
  const name = validateArtifactName('artifact', target.name);
  const aliases = target.aliases.map((a) => validateArtifactName('alias', a)).filter((a) => a !== 'latest');
  const { experimentId, created: projectCreated } = await ensureProject(deps, target.project, target.entity);
  const now = deps.now();
  const versionIndex = await deps.db.transaction(async (tx) => {
    await tx.execute(sql`insert into wandb_artifact_collections (experiment_id, name, type, portfolio, created_at) values (${experimentId}, ${name}, ${artifact.type}, true, ${now})
      on conflict (experiment_id, name) do nothing`);
    const [c] = await rows<{ id: number; portfolio: boolean }>(tx, sql`select id, portfolio from wandb_artifact_collections where experiment_id = ${experimentId} and name = ${name} for update`);
    if (c.portfolio !== true) throw invalidParam(`'${name}' in project '${target.project}' holds logged versions of its own; link to another name`);
    const cid = Number(c.id);
    const [existing] = await rows<{ version_index: number }>(tx, sql`select version_index from wandb_artifact_links where collection_id = ${cid} and artifact_id = ${artifact.id}`);
    let index: number;
    if (existing) index = Number(existing.version_index);
    else {
      const [next] = await rows<{ n: number }>(tx, sql`select coalesce(max(version_index) + 1, 0)::int as n from wandb_artifact_links where collection_id = ${cid}`);
      index = Number(next.n);
      await tx.execute(sql`insert into wandb_artifact_links (collection_id, artifact_id, version_index, created_at) values (${cid}, ${artifact.id}, ${index}, ${now})`);
      aliases.push('latest');
    }
    await setAliases(tx, cid, artifact.id, aliases);
    return { cid, index };
  });
  return { link: { collectionId: versionIndex.cid, name, experimentId, project: target.project, versionIndex: versionIndex.index }, projectCreated };
}

/**
 * A portfolio's members, newest link first (`api.artifacts(type, "<entity>/model-registry/<name>")`);
 * the cursor is a portfolio version number.
 */
export async function listPortfolio(
  db: Orm,
  c: { id: number; name: string; experimentId: number; project: string },
  after: string | null,
  first: number | null,
): Promise<{ members: Member[]; total: number; hasNextPage: boolean }> {
  const n = pageSize(first);
  const from = sql`wandb_artifact_links l join wandb_artifacts a on a.id = l.artifact_id where l.collection_id = ${c.id} and a.state = 'COMMITTED'`;
  const [{ total }] = await rows<{ total: number }>(db, sql`select count(*)::int as total from ${from}`);
  const cursor = afterId(after);
  const links = await rows<{ artifact_id: number; version_index: number }>(
    db,
    sql`select l.artifact_id, l.version_index from ${from} ${cursor === null ? sql`` : sql`and l.version_index < ${cursor}`} order by l.version_index desc limit ${n + 1}`,
  );
  const shown = links.slice(0, n);
  const byId = new Map((shown.length ? await select(db, sql`a.id in (${sql.join(shown.map((l) => sql`${Number(l.artifact_id)}`), sql`, `)})`) : []).map((a) => [a.id, a]));
  const members = shown.flatMap((l) => {
    const a = byId.get(Number(l.artifact_id));
    return a ? [{ a, link: { collectionId: c.id, name: c.name, experimentId: c.experimentId, project: c.project, versionIndex: Number(l.version_index) } }] : [];
  });
  return { members, total: Number(total), hasNextPage: links.length > n };
}
