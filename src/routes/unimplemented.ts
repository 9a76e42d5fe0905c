// Families a later issue will implement. Until then a request for them gets an honest 501
// NOT_IMPLEMENTED (which the client reports) rather than a 404 page or a 500 it would retry.
const FAMILIES: [RegExp, string][] = [
  [/^\/(ajax-)?api\/[23]\.0\/mlflow\/traces/, 'this trace endpoint'],
  [/^\/(ajax-)?api\/3\.0\/mlflow\/(assessments|datasets|scorers|issues|prompt-optimization|gateway|workspaces|label-schemas|review-queues|mcp-servers)/, 'this MLflow GenAI family'],
  [/^\/(ajax-)?api\/2\.0\/mlflow\/webhooks/, 'webhooks'],
];

export function unimplementedFamily(path: string): string | undefined {
  return FAMILIES.find(([re]) => re.test(path))?.[1];
}

/** The sentence a 501 carries. */
export function unimplementedMessage(family: string, call: string): string {
  return `Cairn does not implement ${family} yet: ${call}`;
}

// Calls of these families whose last segment is a name, not an id: a route with a parameter in that
// place (GET /api/3.0/mlflow/traces/:trace_id) must not turn them into a 405.
const NAMED_CALLS = new Set(['link-prompts', 'link-to-run', 'calculate-filter-correlation', 'batchGetInfos', 'batchGet', 'get']);

export function isNamedCall(path: string): boolean {
  return NAMED_CALLS.has(path.slice(path.lastIndexOf('/') + 1));
}
