import path from 'node:path';
import { sql } from 'drizzle-orm';
import { rows, type Orm } from '../../db/connect.js';
import { invalidParam, notFound } from '../../errors.js';
import { modelIdByName } from './read.js';
import { canonicalStage, IS_PROMPT_TAG, parseVersion } from './validation.js';

// Where a new model version's files are, and which run and logged model it came from
// (mlflow/server/handlers.py: _resolve_registered_model_source_lineage, _validate_source_run,
// _validate_source_model). The source is stored as sent (after models:/<name>/<stage|alias> is pinned
// to a version); the storage location, returned by get-download-uri, is resolved here so clients
// can load `models:/<name>/<v>` without knowing what the source pointed at.

export interface ResolvedSource {
  source: string;
  storageLocation: string;
  runId: string | null;
  modelId: string | null;
}

interface ParsedUri {
  scheme: string;
  /** The authority after `//`, or null when there is none. */
  authority: string | null;
  path: string;
}

export function parseUri(uri: string): ParsedUri {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):(.*)$/s.exec(uri);
  if (!m || m[1].length === 1) return { scheme: '', authority: null, path: uri }; // no scheme (or a drive letter)
  const rest = m[2];
  if (rest.startsWith('//')) {
    const slash = rest.indexOf('/', 2);
    return { scheme: m[1].toLowerCase(), authority: rest.slice(2, slash < 0 ? undefined : slash), path: slash < 0 ? '' : rest.slice(slash) };
  }
  return { scheme: m[1].toLowerCase(), authority: null, path: rest };
}

const invalidSource = (source: string, idName: 'run_id' | 'model_id') =>
  invalidParam(
    `Invalid model version source: '${source}'. The ${idName} request parameter must identify the resource that contains the source.`,
  );

function unquoteFully(value: string): string {
  for (let i = 0; i < 10; i++) {
    let next: string;
    try {
      next = decodeURIComponent(value.replace(/\+/g, ' '));
    } catch {
      return value;
    }
    if (next === value) return value;
    value = next;
  }
  return value;
}

/** No `..` segments or NUL bytes, even percent-encoded, and a path already in canonical form. */
function checkNoRelativePaths(source: string): void {
  const message =
    `Invalid model version source: '${source}'. If supplying a source as an http, https, local file path, ftp, objectstore, ` +
    'or mlflow-artifacts uri, an absolute path must be provided without relative path references present. Please provide an absolute path.';
  const decoded = unquoteFully(source);
  const p = parseUri(decoded).path.replace(/\/+/g, '/').replace(/\/+$/, '');
  if (decoded.includes('\u0000') || decoded.split('/').some((s) => s === '..')) throw invalidParam(message);
  if (!p.startsWith('/') || path.posix.normalize(p) !== p) throw invalidParam(message);
}

const isLocal = (p: ParsedUri) => p.scheme === '' || p.scheme === 'file';

function isProxiedArtifactUri(p: ParsedUri): boolean {
  if (p.scheme === 'mlflow-artifacts') return true;
  return (p.scheme === 'http' || p.scheme === 'https') && /(^|\/)api\/2\.0\/mlflow-artifacts\/artifacts(\/|$)/.test(p.path);
}

const pathParts = (p: string) => p.split('/').filter(Boolean).map(unquoteFully);

/** MLflow's _is_uri_within_root: same scheme and authority, and the root's path segments as a prefix. */
function isWithin(source: string, root: string): boolean {
  const s = parseUri(source);
  const r = parseUri(root);
  const sp = pathParts(s.path);
  const rp = pathParts(r.path);
  return s.scheme === r.scheme && (s.authority ?? '').toLowerCase() === (r.authority ?? '').toLowerCase() && rp.length > 0 && rp.every((x, i) => sp[i] === x);
}

function isLocalWithin(source: string, root: string): boolean {
  const s = parseUri(source);
  const r = parseUri(root);
  if (!isLocal(r)) return false;
  const sp = path.posix.resolve('/', s.path);
  const rp = path.posix.resolve('/', r.path);
  return sp === rp || sp.startsWith(`${rp.replace(/\/$/, '')}/`);
}

/** A models:/ URI: by logged-model id, or by registered name with a version, stage, `latest` or alias. */
type ModelsUri = { modelId: string } | { name: string; version?: string; stage?: string; latest?: true; alias?: string };

function parseModelsUri(source: string, p: ParsedUri): ModelsUri {
  const improper = () =>
    invalidParam(
      `Not a proper models:/ URI: ${source}. Models URIs must be of the form 'models:/name/suffix' or 'models:/name@alias' where suffix is a version, stage, or the string 'latest' and where alias is a registered model alias. Only one of suffix or alias can be defined at a time.`,
    );
  if (!p.path.startsWith('/') || p.path.length <= 1) throw improper();
  const parts = p.path.replace(/^\/+/, '').split('/');
  if (parts.length > 2 || parts[0].trim() === '') throw improper();
  if (parts.length === 2) {
    const [name, suffix] = parts;
    if (suffix.trim() === '') throw improper();
    if (/^\d+$/.test(suffix)) return { name, version: suffix };
    if (suffix.toLowerCase() === 'latest') return { name, latest: true };
    return { name, stage: suffix };
  }
  if (p.path.includes('@')) {
    const at = parts[0].lastIndexOf('@');
    const alias = parts[0].slice(at + 1);
    if (at < 0 || alias.trim() === '') throw improper();
    return { name: parts[0].slice(0, at), alias };
  }
  return { modelId: parts[0] };
}

interface RunRow {
  artifact_uri: string;
}
interface LoggedModelRow {
  artifact_location: string;
  source_run_id: string | null;
  lifecycle_stage: string;
}

async function findRun(db: Orm, runId: string): Promise<RunRow | undefined> {
  return (await rows<RunRow>(db, sql`select artifact_uri from runs where run_id = ${runId}`))[0];
}

async function findLoggedModel(db: Orm, modelId: string): Promise<LoggedModelRow | undefined> {
  const found = await rows<LoggedModelRow>(db, sql`select artifact_location, source_run_id, lifecycle_stage from logged_models where model_id = ${modelId}`);
  return found[0]?.lifecycle_stage === 'deleted' ? undefined : found[0];
}

/** models:/<name>/<version|stage|latest> or models:/<name>@<alias> -> that version's row. */
async function resolveRegisteredSource(db: Orm, source: string, uri: Exclude<ModelsUri, { modelId: string }>) {
  const modelId = await modelIdByName(db, uri.name);
  const prompt = await rows(
    db,
    sql`select 1 from registered_model_tags where registered_model_id = ${modelId} and key = ${IS_PROMPT_TAG} and lower(value) = 'true'`,
  );
  if (prompt.length) throw invalidParam(`Invalid model version source: '${source}'. Prompt versions cannot be used as model version sources.`);
  let version: number | undefined;
  if (uri.version !== undefined) version = parseVersion(uri.version);
  else if (uri.alias !== undefined) {
    const found = await rows<{ version: number | string }>(
      db,
      sql`select version from registered_model_aliases where registered_model_id = ${modelId} and alias = ${uri.alias}`,
    );
    if (!found.length) throw notFound(`Registered model alias ${uri.alias} not found.`);
    version = Number(found[0].version);
  } else {
    const stage = uri.stage === undefined ? null : canonicalStage(uri.stage);
    const found = await rows<{ version: number | string }>(
      db,
      sql`select max(version) as version from model_versions where registered_model_id = ${modelId} and not deleted
          and (${stage}::text is null or current_stage = ${stage}::text)`,
    );
    if (found[0]?.version == null) {
      throw notFound(`No versions of model with name '${uri.name}'${stage ? ` and stage '${stage}'` : ''} found`);
    }
    version = Number(found[0].version);
  }
  const found = await rows<{ source: string; storage_location: string | null; run_id: string | null; model_id: string | null }>(
    db,
    sql`select source, storage_location, run_id, model_id from model_versions where registered_model_id = ${modelId} and version = ${version} and not deleted`,
  );
  if (!found.length) throw notFound(`Model Version (name=${uri.name}, version=${version}) not found`);
  return { name: uri.name, version, ...found[0] };
}

/** `tracking` holds the runs and logged models a source may name, `registry` the versions a models:/ source names. */
export async function resolveSource(
  stores: { tracking: Orm; registry: Orm },
  input: { source: string; run_id?: string; model_id?: string },
): Promise<ResolvedSource> {
  let source = input.source;
  let runId = input.run_id || null;
  let modelId = input.model_id || null;
  let storageLocation: string | null = null;
  const original = parseUri(source);

  if (original.scheme === 'models') {
    if (original.authority !== null) {
      throw invalidParam(`Invalid model version source: '${source}'. Registered model sources must use the active model registry.`);
    }
    const uri = parseModelsUri(source, original);
    if (!('modelId' in uri)) {
      const from = await resolveRegisteredSource(stores.registry, source, uri);
      if ((input.run_id !== undefined && (input.run_id || '') !== (from.run_id || '')) || (input.model_id !== undefined && (input.model_id || '') !== (from.model_id || ''))) {
        throw invalidParam(`Invalid model version source: '${source}'. The run_id and model_id request parameters must match the referenced model version.`);
      }
      source = `models:/${from.name}/${from.version}`;
      runId = input.run_id !== undefined ? runId : from.run_id;
      modelId = input.model_id !== undefined ? modelId : from.model_id;
      storageLocation = from.storage_location ?? from.source;
    }
  }

  const parsed = parseUri(source);
  if (modelId) {
    const model = await findLoggedModel(stores.tracking, modelId);
    if (!model) throw invalidSource(source, 'model_id');
    if (isLocal(parsed)) {
      if (!isLocalWithin(source, model.artifact_location)) {
        throw invalidParam(
          `Invalid model version source: '${source}'. To use a local path as a model version source, the model_id request parameter has to be specified and the local path has to be contained within the artifact directory of the run specified by the model_id.`,
        );
      }
    } else {
      checkNoRelativePaths(source);
      if (parsed.scheme === 'runs') throw invalidSource(source, 'model_id');
      if (parsed.scheme === 'models' && parsed.authority !== null) throw invalidSource(source, 'model_id');
      const uri = parsed.scheme === 'models' ? parseModelsUri(source, parsed) : undefined;
      if (uri && 'modelId' in uri) {
        if (uri.modelId !== modelId) throw invalidSource(source, 'model_id');
        storageLocation = model.artifact_location;
      }
      if (isProxiedArtifactUri(parsed) && !isWithin(source, model.artifact_location)) throw invalidSource(source, 'model_id');
    }
    runId ??= model.source_run_id;
  } else {
    const run = runId ? await findRun(stores.tracking, runId) : undefined;
    if (isLocal(parsed)) {
      if (!run || !isLocalWithin(source, run.artifact_uri)) {
        throw invalidParam(
          `Invalid model version source: '${source}'. To use a local path as a model version source, the run_id request parameter has to be specified and the local path has to be contained within the artifact directory of the run specified by the run_id.`,
        );
      }
    } else {
      checkNoRelativePaths(source);
      if (parsed.scheme === 'runs') {
        const [sourceRunId, ...rest] = parsed.path.replace(/^\/+/, '').split('/');
        if (parsed.authority !== null || !runId || sourceRunId !== runId || !run) throw invalidSource(source, 'run_id');
        const artifactPath = rest.join('/');
        storageLocation = artifactPath ? `${run.artifact_uri.replace(/\/+$/, '')}/${artifactPath}` : run.artifact_uri;
      }
      if (parsed.scheme === 'models') {
        if (parsed.authority !== null || 'modelId' in parseModelsUri(source, parsed)) throw invalidSource(source, 'model_id');
      }
      if (isProxiedArtifactUri(parsed) && (!run || !isWithin(source, run.artifact_uri))) throw invalidSource(source, 'run_id');
    }
  }
  return { source, storageLocation: storageLocation ?? source, runId, modelId };
}
