/**
 * A run search's plan choices (search-runs.ts: chooseNarrowing's answer, the length of a walk in a
 * metric, param or tag order; run-name-walk.ts: walking or sorting a run-name pattern), remembered for a few seconds by search: the UI and the clients repeat
 * a search as they page and poll, and the capped counts behind a choice cost 2–4 ms of a 5–10 ms
 * search (docs/bench.md). A choice only picks a plan, never the rows: a list of run ids is read
 * again at every use (see narrowingFor), so a write between two searches changes what they return
 * exactly as without the memo; at worst a plan fits the data of a few seconds ago.
 * One per server (Deps.plans), bounded: the oldest entry goes first. Keys name their kind.
 */
export class PlanMemo {
  private readonly entries = new Map<string, { at: number; value: unknown }>();

  constructor(
    private readonly ttlMs = 5000,
    private readonly max = 500,
    private readonly now: () => number = Date.now,
  ) {}

  get<T>(key: string): T | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (this.now() - hit.at > this.ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    return hit.value as T;
  }

  set(key: string, value: unknown): void {
    this.entries.delete(key);
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { at: this.now(), value });
  }
}
