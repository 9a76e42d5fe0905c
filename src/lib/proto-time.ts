/**
 * A time as protobuf's JSON mapping writes a Timestamp (what `mlflow server` answers and the client
 * parses): no fraction for whole seconds, else milliseconds, where `toISOString` always writes them.
 */
export function protoTimestamp(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}
