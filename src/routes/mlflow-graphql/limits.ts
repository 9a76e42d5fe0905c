import { Kind, type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';

// The bounds MLflow's server puts on a document before executing it (graphql_no_batching.py), with its
// wording: a document cannot batch many root queries or aliases to multiply the work of one request.
const MAX_DEPTH = 10;
const MAX_SELECTIONS = 1000;
const MAX_ROOT_FIELDS = 10;
const MAX_ALIASES = 10;

/** The first bound the document breaks, as the message MLflow answers with, or undefined. */
export function checkDocumentBounds(doc: DocumentNode): string | undefined {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  let rootFields = 0;
  let maxAliases = 0;
  let selections = 0;
  for (const d of doc.definitions) {
    if (d.kind !== Kind.OPERATION_DEFINITION) continue;
    const stack: [SelectionSetNode, number, ReadonlySet<string>][] = [[d.selectionSet, 1, new Set()]];
    while (stack.length) {
      const [set, depth, seen] = stack.pop()!;
      if (depth > MAX_DEPTH) return `Query exceeds maximum depth of ${MAX_DEPTH}`;
      const { fields, aliases, visited } = flatten(set, fragments, seen);
      maxAliases = Math.max(maxAliases, aliases);
      if (depth === 1) rootFields += fields.length;
      selections += fields.length;
      if (selections > MAX_SELECTIONS) return `Query exceeds maximum total selections of ${MAX_SELECTIONS}`;
      for (const f of fields) if (f.selectionSet) stack.push([f.selectionSet, depth + 1, visited]);
    }
  }
  if (rootFields > MAX_ROOT_FIELDS) return limitMessage('MLFLOW_SERVER_GRAPHQL_MAX_ROOT_FIELDS', MAX_ROOT_FIELDS, 'root fields', rootFields);
  if (maxAliases > MAX_ALIASES) return limitMessage('MLFLOW_SERVER_GRAPHQL_MAX_ALIASES', MAX_ALIASES, 'aliases', maxAliases);
  return undefined;
}

function limitMessage(env: string, max: number, what: string, got: number): string {
  return `GraphQL queries should have at most ${max} ${what}, got ${got} ${what}. To increase the limit, set the ${env} environment variable.`;
}

// The fields of one selection set with its inline fragments and fragment spreads expanded (each
// fragment once per path, so a fragment cycle cannot loop).
function flatten(set: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>, seen: ReadonlySet<string>) {
  const visited = new Set(seen);
  const fields = [];
  let aliases = 0;
  const queue = [...set.selections];
  while (queue.length) {
    const s = queue.shift()!;
    if (s.kind === Kind.FIELD) {
      fields.push(s);
      if (s.alias) aliases++;
    } else if (s.kind === Kind.INLINE_FRAGMENT) {
      queue.push(...s.selectionSet.selections);
    } else if (!visited.has(s.name.value)) {
      visited.add(s.name.value);
      const frag = fragments.get(s.name.value);
      if (frag) queue.push(...frag.selectionSet.selections);
    }
  }
  return { fields, aliases, visited };
}

