import { randomUUID } from 'node:crypto';
import {
  buildSchema,
  execute,
  GraphQLError,
  GraphQLObjectType,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLSchema,
} from 'graphql';
import type { Context } from 'hono';
import { classifyDbError } from '../../db/faults.js';
import type { Deps } from '../../deps.js';
import { MlflowError, RETRY_AFTER_SECONDS } from '../../errors.js';
import { principalOf } from '../../auth/policy.js';
import { defaultEntityOf } from '../../domain/teams/default-entity.js';
import type { WandbUser } from '../../domain/wandb/api-keys.js';
import { MAX_HISTORY_READS, resolvers, type GqlContext } from './resolvers.js';
import { WANDB_SDL } from './schema.graphql.js';

let schemaCache: GraphQLSchema | undefined;

/** The executable schema: the SDL with the resolvers attached to its fields. */
export function wandbSchema(): GraphQLSchema {
  if (schemaCache) return schemaCache;
  const schema = buildSchema(WANDB_SDL);
  for (const [typeName, fields] of Object.entries(resolvers)) {
    const type = schema.getType(typeName);
    if (!(type instanceof GraphQLObjectType)) throw new Error(`No object type ${typeName} in the W&B schema`);
    const defined = type.getFields();
    for (const [fieldName, resolve] of Object.entries(fields)) {
      if (!defined[fieldName]) throw new Error(`No field ${typeName}.${fieldName} in the W&B schema`);
      defined[fieldName].resolve = resolve as never;
    }
  }
  schemaCache = schema;
  return schema;
}

// Parsed and validated documents, by text: the client sends the same few documents over and over.
const documents = new Map<string, DocumentNode | readonly GraphQLError[]>();
const MAX_DOCUMENTS = 500;
const MAX_TOKENS = 20_000;
// The wandb client's deepest document (public api, runs.py) nests 11 levels of brackets; graphql-js walks documents recursively,
// so a hostile one nested thousands deep would exhaust the stack (a 500) before any rule ran.
export const MAX_DEPTH = 32;

/** Deepest nesting of `{`, `[` and `(` in a document, outside strings and comments; no recursion. */
export function nestingDepth(query: string): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < query.length; i++) {
    const ch = query[i];
    if (ch === '#') {
      while (i < query.length && query[i] !== '\n' && query[i] !== '\r') i++;
    } else if (query.startsWith('"""', i)) {
      // A block string ends at the first """ not escaped as \""".
      i += 3;
      while (i < query.length && !(query.startsWith('"""', i) && query[i - 1] !== '\\')) i++;
      i += 2;
    } else if (ch === '"') {
      i++;
      while (i < query.length && query[i] !== '"' && query[i] !== '\n') i += query[i] === '\\' ? 2 : 1;
    } else if (ch === '{' || ch === '[' || ch === '(') {
      if (++depth > max) max = depth;
    } else if (ch === '}' || ch === ']' || ch === ')') {
      depth--;
    }
  }
  return max;
}

function prepare(schema: GraphQLSchema, query: string): DocumentNode | readonly GraphQLError[] {
  const hit = documents.get(query);
  if (hit) return hit;
  let result: DocumentNode | readonly GraphQLError[];
  try {
    const doc = parse(query, { maxTokens: MAX_TOKENS });
    const errors = validate(schema, doc, specifiedRules);
    result = errors.length ? errors : doc;
  } catch (err) {
    if (!(err instanceof GraphQLError)) throw err;
    result = [err];
  }
  if (documents.size >= MAX_DOCUMENTS) documents.clear();
  documents.set(query, result);
  return result;
}

export interface GraphqlRequest {
  query: string;
  variables?: Record<string, unknown> | null;
  operationName?: string | null;
}

/**
 * Runs one operation. GraphQL-level failures (unknown fields, a run that does not exist, a bad
 * value) are 200 with `errors`, which the client reports without retrying; a database that is
 * momentarily unavailable is a 503, which it retries; anything else is a logged 500.
 */
export async function runGraphql(c: Context, deps: Deps, user: WandbUser, req: GraphqlRequest, baseUrl: string): Promise<Response> {
  const schema = wandbSchema();
  if (nestingDepth(req.query) > MAX_DEPTH) {
    return c.json({ errors: [{ message: `The query is nested too deeply: at most ${MAX_DEPTH} levels of {, [ and ( are accepted` }] }, 400);
  }
  const prepared = prepare(schema, req.query);
  if (!('kind' in prepared)) return c.json({ errors: prepared.map((e) => ({ message: e.message, locations: e.locations })) }, 200);
  const defaultEntity = await defaultEntityOf(deps.db, user.name);
  const contextValue: GqlContext = { deps, user, principal: principalOf(c), baseUrl, defaultEntity, historyReads: MAX_HISTORY_READS };
  const result = (await execute({
    schema,
    document: prepared,
    variableValues: req.variables ?? undefined,
    // The public API sends "" (graphqlhandler.go leaves OpName unset): graphql-js wants no name.
    operationName: req.operationName || undefined,
    contextValue,
  })) as ExecutionResult;
  if (!result.errors?.length) return c.json({ data: result.data }, 200);
  let status = 200;
  const errors = result.errors.map((e) => {
    const cause = e.originalError;
    if (!cause || cause instanceof GraphQLError) return { message: e.message, path: e.path };
    const kind = classify(cause);
    // A refused permission is the HTTP status the client reports as such, not a GraphQL error.
    if (cause instanceof MlflowError && (cause.status === 401 || cause.status === 403)) status = Math.max(status, cause.status);
    if (kind === 'client') return { message: cause.message, path: e.path };
    if (kind === 'retry') {
      status = Math.max(status, 503);
      return { message: `Temporarily unavailable: ${cause.message}`, path: e.path };
    }
    const requestId = deps.log.requestId() ?? randomUUID();
    deps.log.error('unhandled error in W&B GraphQL', { requestId, path: e.path, error: String(cause.stack ?? cause) });
    status = 500;
    return { message: `Internal error, request id ${requestId}`, path: e.path };
  });
  if (status === 503) c.header('Retry-After', RETRY_AFTER_SECONDS);
  return c.json({ data: result.data ?? null, errors }, status as 200);
}

function classify(err: Error): 'client' | 'retry' | 'bug' {
  if (err instanceof MlflowError) return err.status >= 500 ? (err.status === 503 ? 'retry' : 'bug') : 'client';
  const fault = classifyDbError(err);
  if (!fault) return 'bug';
  return fault.kind === 'unavailable' ? 'retry' : 'client';
}
