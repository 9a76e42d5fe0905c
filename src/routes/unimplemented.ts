// Families a later issue will implement. Until then a request for them gets an honest 501
// NOT_IMPLEMENTED (which the client reports) rather than a 404 page or a 500 it would retry.
const FAMILIES: [RegExp, string][] = [
  [/^\/(ajax-)?api\/[23]\.0\/mlflow\/traces/, 'this trace endpoint'],
  [/^\/(ajax-)?api\/3\.0\/mlflow\/(assessments|datasets|scorers|issues|prompt-optimization|gateway|workspaces|label-schemas|review-queues|mcp-servers)/, 'this MLflow GenAI family'],
  [/^\/(ajax-)?api\/2\.0\/mlflow\/webhooks/, 'webhooks'],
  [/^\/v1\/traces$/, 'OTLP trace ingestion'],
];

export function unimplementedFamily(path: string): string | undefined {
  return FAMILIES.find(([re]) => re.test(path))?.[1];
}

/**
 * The sentence a 501 carries. For OTLP it contains the phrase the mlflow client's span exporter looks
 * for ("REST OTLP span logging is not supported"): it then stops sending spans one by one and relies
 * on the traces.json it uploads with each finished trace, which Cairn stores.
 */
export function unimplementedMessage(family: string, call: string): string {
  if (family === 'OTLP trace ingestion') return `REST OTLP span logging is not supported by Cairn yet (${call}); spans are stored from the trace's traces.json upload`;
  return `Cairn does not implement ${family} yet: ${call}`;
}
