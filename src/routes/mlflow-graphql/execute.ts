import { randomUUID } from 'node:crypto';
import {
  buildSchema,
  execute,
  GraphQLError,
  GraphQLObjectType,
  GraphQLScalarType,
  Kind,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLFieldResolver,
  type GraphQLSchema,
} from 'graphql';
import type { Context } from 'hono';
import type { Deps } from '../../deps.js';
import { MlflowError } from '../../errors.js';
import { checkDocumentBounds } from './limits.js';
import { mlflowResolvers, snakeCase, type MlflowGqlContext } from './resolvers.js';
import { MLFLOW_SDL } from './schema.graphql.js';

// 64-bit integers as decimal strings out; ints (or decimal strings, from variables) in.
const longString = new GraphQLScalarType({
  name: 'LongString',
  description: 'Long converted to string to prevent truncation to max integer in JavaScript',
  serialize: (v) => String(v),
  parseValue: (v) => {
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n)) throw new GraphQLError(`LongString cannot represent ${JSON.stringify(v)}`);
    return n;
  },
  parseLiteral: (node) => (node.kind === Kind.INT ? Number(node.value) : null),
});

let schemaCache: GraphQLSchema | undefined;

/** The executable schema: the SDL, the LongString scalar and the resolvers attached. */
export function mlflowSchema(): GraphQLSchema {
  if (schemaCache) return schemaCache;
  const schema = buildSchema(MLFLOW_SDL);
  const scalar = schema.getType('LongString') as GraphQLScalarType;
  Object.assign(scalar, { serialize: longString.serialize, parseValue: longString.parseValue, parseLiteral: longString.parseLiteral });
  for (const [typeName, fields] of Object.entries(mlflowResolvers)) {
    const type = schema.getType(typeName);
    if (!(type instanceof GraphQLObjectType)) throw new Error(`No object type ${typeName} in the MLflow schema`);
    const defined = type.getFields();
    for (const [fieldName, resolve] of Object.entries(fields)) {
      if (!defined[fieldName]) throw new Error(`No field ${typeName}.${fieldName} in the MLflow schema`);
      defined[fieldName].resolve = resolve as never;
    }
  }
  schemaCache = schema;
  return schema;
}

// The domain answers in MLflow's wire form (snake_case, NaN as a string); GraphQL fields are its
// camelCase. A Float that is not a number (NaN, ±Infinity) reads as null, as MLflow's server does.
const wireField: GraphQLFieldResolver<unknown, MlflowGqlContext> = (source, _args, _ctx, info) => {
  if (source === null || typeof source !== 'object') return undefined;
  const value = (source as Record<string, unknown>)[snakeCase(info.fieldName)];
  const type = info.returnType.toString();
  if (type === 'Float' && typeof value !== 'number') return value === undefined ? 0 : null;
  if (value !== undefined && value !== null) return value;
  // MLflow resolves fields from protobuf messages, where an unset field reads as its default: an
  // empty list, "", 0, false. Only fields outside the message (apiError) and sub-messages are null.
  return PROTO_DEFAULTS[type.replace(/!$/, '')] ?? (type.startsWith('[') ? [] : null);
};

const PROTO_DEFAULTS: Record<string, unknown> = { String: '', LongString: '0', Int: 0, Boolean: false };

const MAX_TOKENS = 20_000;
const documents = new Map<string, DocumentNode | string>();
const MAX_DOCUMENTS = 500;

function prepare(schema: GraphQLSchema, query: string): DocumentNode | string {
  const hit = documents.get(query);
  if (hit) return hit;
  let result: DocumentNode | string;
  try {
    const doc = parse(query, { maxTokens: MAX_TOKENS });
    const bound = checkDocumentBounds(doc);
    const errors = bound ? [] : validate(schema, doc, specifiedRules);
    // graphql-core (MLflow's) quotes names with ' where graphql-js uses ".
    result = bound ?? (errors.length ? errors[0].message.replace(/"/g, "'") : doc);
  } catch (err) {
    if (!(err instanceof GraphQLError)) throw err;
    result = err.message;
  }
  if (documents.size >= MAX_DOCUMENTS) documents.clear();
  documents.set(query, result);
  return result;
}

/**
 * Runs one operation the way MLflow's server answers it: always 200 with `{data, errors}`, errors as
 * a list of messages (a missing run is an error next to a null field, not an HTTP status). A
 * database that is momentarily unavailable is a 503, which callers retry.
 */
export async function runMlflowGraphql(
  c: Context,
  deps: Deps,
  req: { query: string; variables?: Record<string, unknown> | null; operationName?: string | null },
): Promise<Response> {
  const schema = mlflowSchema();
  const prepared = prepare(schema, req.query);
  if (typeof prepared === 'string') return c.json({ data: null, errors: [prepared] }, 200);
  const result = (await execute({
    schema,
    document: prepared,
    variableValues: req.variables ?? undefined,
    operationName: req.operationName || undefined,
    contextValue: { deps } satisfies MlflowGqlContext,
    fieldResolver: wireField,
  })) as ExecutionResult;
  if (!result.errors?.length) return c.json({ data: result.data ?? null, errors: null }, 200);
  let status = 200;
  const errors = result.errors.map((e) => {
    const cause = e.originalError;
    if (!cause || cause instanceof GraphQLError) return e.message;
    if (cause instanceof MlflowError && cause.status < 500) return cause.message;
    if (cause instanceof MlflowError && cause.status === 503) {
      status = 503;
      return cause.message;
    }
    const requestId = deps.log.requestId() ?? randomUUID();
    deps.log.error('unhandled error in MLflow GraphQL', { requestId, path: e.path, error: String(cause.stack ?? cause) });
    return `Internal error, request id ${requestId}`;
  });
  return c.json({ data: result.data ?? null, errors }, status as 200);
}

const MLFLOW_ROOT = /^(mlflow[A-Z]\w*|test|testMutation)$/;
const INTROSPECTION = /^(__typename|__schema|__type)$/;

/**
 * Whether a /graphql document is meant for MLflow's schema: every root field of its operations is
 * one of MLflow's (`mlflow*`, or its `test` echo fields). W&B's root fields (`viewer`, `project`,
 * `upsertBucket`, ...) never match, so the wandb client keeps its own schema and its key check.
 * Introspection alone (the wandb client probes `__type(name: "Query")`) belongs to whichever
 * caller it is: MLflow's side unless W&B credentials came with it. A document that does not parse
 * goes to MLflow's side, which answers the syntax error.
 */
export function isMlflowDocument(query: string, hasWandbKey: boolean): boolean {
  let doc: DocumentNode;
  try {
    doc = parse(query, { maxTokens: MAX_TOKENS });
  } catch {
    return !hasWandbKey;
  }
  const fragments = new Map(doc.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  let sawField = false;
  for (const d of doc.definitions) {
    if (d.kind !== Kind.OPERATION_DEFINITION) continue;
    const queue = [...d.selectionSet.selections];
    const seen = new Set<string>();
    while (queue.length) {
      const s = queue.shift()!;
      if (s.kind === Kind.FIELD) {
        if (INTROSPECTION.test(s.name.value)) continue;
        if (!MLFLOW_ROOT.test(s.name.value)) return false;
        sawField = true;
      } else if (s.kind === Kind.INLINE_FRAGMENT) queue.push(...s.selectionSet.selections);
      else if (!seen.has(s.name.value)) {
        seen.add(s.name.value);
        queue.push(...(fragments.get(s.name.value)?.selectionSet.selections ?? []));
      }
    }
  }
  return sawField || !hasWandbKey;
}
