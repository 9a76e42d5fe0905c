// Families a later issue will implement. Until then a request for them gets an honest 501
// NOT_IMPLEMENTED (which the client reports) rather than a 404 page or a 500 it would retry.
// Only paths MLflow serves belong here: the trace, assessment, dataset and scorer calls are all
// Cairn's, so any other path under them is a 404, as from `mlflow server`.
const FAMILIES: [RegExp, string][] = [
  [/^\/(ajax-)?api\/3\.0\/mlflow\/(issues|prompt-optimization|gateway|workspaces|label-schemas|review-queues|mcp-servers)/, 'this MLflow GenAI family'],
  [/^\/(ajax-)?api\/2\.0\/mlflow\/webhooks/, 'webhooks'],
  // Signed URLs straight to the bucket (for SageMaker's plugin); the mlflow client never asks for them.
  [/^\/(ajax-)?api\/2\.0\/mlflow\/artifacts\/presigned-(upload|download)-url$/, 'presigned artifact URLs'],
];

export function unimplementedFamily(path: string): string | undefined {
  return FAMILIES.find(([re]) => re.test(path))?.[1];
}

/** The sentence a 501 carries. */
export function unimplementedMessage(family: string, call: string): string {
  return `Cairn does not implement ${family} yet: ${call}`;
}
