import { sql } from 'drizzle-orm';
import { joinKey } from '../../blobs/keys.js';
import type { BlobObject } from '../../blobs/store.js';
import { rows } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { invalidParam, notFound } from '../../errors.js';
import { guessContentType } from '../artifacts-mime.js';
import { activeRunStore, fileKey } from './run-files.js';
import { signUpload, verifyUpload } from './upload-tokens.js';
import type { WandbRunRow } from './run-store.js';

// The public API's view of run files (`run.files()`, `run.file(name)`, `File.download()`): the
// rows CreateRunFiles uploads recorded, each with a signed download URL. The URL carries its own
// credential because wandb-core fetches it like a presigned bucket URL, without the API key.

export interface RunFileRow {
  path: string;
  size: number;
  md5: string | null;
  updated_at: number;
}

export interface RunFilePage {
  files: RunFileRow[];
  hasNextPage: boolean;
}

const MAX_PAGE = 1000;

export async function countRunFiles(deps: Deps, run: WandbRunRow): Promise<number> {
  const found = await rows<{ n: number }>(deps.db, sql`select count(*)::int as n from wandb_files where run_id = ${run.run_id}`);
  return Number(found[0].n);
}

/**
 * One page by path. `names` picks exact paths; `pattern` is a SQL LIKE pattern (the client
 * documents MySQL's LIKE: `%` and `_` mean the same in Postgres).
 */
export async function listRunFiles(
  deps: Deps,
  run: WandbRunRow,
  opts: { names?: (string | null)[] | null; pattern?: string | null; after?: string | null; first?: number | null },
): Promise<RunFilePage> {
  const first = opts.first ?? 50;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) throw invalidParam(`first must be between 1 and ${MAX_PAGE}, got ${first}`);
  const names = (opts.names ?? []).filter((n): n is string => typeof n === 'string');
  const conds = [sql`run_id = ${run.run_id}`];
  if (names.length) conds.push(sql`path in (${sql.join(names.map((n) => sql`${n}`), sql`, `)})`);
  if (opts.pattern) conds.push(sql`path like ${opts.pattern}`);
  if (opts.after) conds.push(sql`path > ${opts.after}`);
  const found = await rows<RunFileRow>(
    deps.db,
    sql`select path, size, md5, updated_at from wandb_files where ${sql.join(conds, sql` and `)} order by path limit ${first + 1}`,
  );
  return { files: found.slice(0, first).map((f) => ({ ...f, size: Number(f.size), updated_at: Number(f.updated_at) })), hasNextPage: found.length > first };
}

export const mimetypeOf = (path: string) => guessContentType(path.slice(path.lastIndexOf('/') + 1));

export async function downloadUrl(deps: Deps, run: WandbRunRow, path: string, baseUrl: string): Promise<string> {
  return `${baseUrl}/wandb-download/${await signUpload(deps.db, run.run_id, path, deps.now(), deps.config.wandbUploadUrlTtl * 1000, 'download')}`;
}

/** The GET behind a download URL: the file's bytes, streamed from the run's artifact store. */
export async function openDownload(deps: Deps, token: string): Promise<BlobObject & { path: string }> {
  const grant = await verifyUpload(deps.db, token, deps.now(), 'download');
  const target = await activeRunStore(deps, grant.runId);
  const key = fileKey(grant.path);
  if (!target || !key) throw notFound(`File ${grant.path} not found`);
  return { ...(await target.store.get(joinKey(target.baseKey, key))), path: key };
}
