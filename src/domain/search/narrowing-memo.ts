/**
 * chooseNarrowing's answers (search-runs.ts), remembered for a few seconds by search: the UI and the
 * clients repeat a search as they page and poll, and the capped counts behind an answer cost 2–4 ms
 * of a 5–10 ms search (docs/bench.md). An answer only picks a plan, never the rows: a list of run
 * ids is read again at every use (see narrowingFor), so a write between two searches changes what
 * they return exactly as without the memo; at worst a plan fits the data of a few seconds ago.
 * One per database (Deps.narrowings), bounded: the oldest entry goes first.
 */
export class NarrowingMemo<T> {
  private readonly entries = new Map<string, { at: number; value: T }>();

  constructor(
    private readonly ttlMs = 5000,
    private readonly max = 500,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): T | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (this.now() - hit.at > this.ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    return hit.value;
  }

  set(key: string, value: T): void {
    this.entries.delete(key);
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { at: this.now(), value });
  }
}
