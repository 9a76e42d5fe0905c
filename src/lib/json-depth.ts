/** Whether a parsed JSON value nests deeper than `limit` levels (checked before walking it recursively). */
export function jsonDeeperThan(v: unknown, limit: number): boolean {
  if (typeof v !== 'object' || v === null) return false;
  if (limit === 0) return true;
  return Object.values(v).some((x) => jsonDeeperThan(x, limit - 1));
}
