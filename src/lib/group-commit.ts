// Group commit: callers that arrive while the writes are under way wait for the next one, which takes
// all of them in one transaction. Under load this turns N transactions (each a handful of round trips and
// an fsync) into one; when idle a caller is written at once, at the cost of one event-loop turn.
//
// Each caller's promise settles only after the write holding its item has finished, so an acknowledged
// item is committed. The write answers per item (undefined: stored; an error: that item alone refused,
// nothing of it stored). If the write throws as a whole, the items are written again one by one, so a
// fault only one item causes fails that item alone; a fault of the store itself (`isOutage`) fails the
// whole batch without the retries.

export interface GroupCommitOptions<T> {
  /** Writes the items, all or none of each; answers one entry per item, in order. */
  write: (items: T[]) => Promise<(Error | undefined)[]>;
  /** How many items one write takes at most, and how much of `weight` (e.g. spans). */
  maxItems: number;
  /** How many writes may be under way at once (each takes its own batch; 1 keeps them in order). */
  concurrency: number;
  maxWeight: number;
  weight: (item: T) => number;
  /** A failure no retry one by one would help (the database or blob store is down): it fails them all. */
  isOutage: (err: unknown) => boolean;
}

interface Waiting<T> {
  item: T;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class GroupCommit<T> {
  private readonly queue: Waiting<T>[] = [];
  private running = 0;

  constructor(private readonly opts: GroupCommitOptions<T>) {}

  /** Resolves once the item is committed; rejects with the error that refused it. */
  submit(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.running < this.opts.concurrency) {
        this.running++;
        // One turn of the event loop, so requests whose bodies were read in the same turn share a write.
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length) await this.writeBatch(this.takeBatch());
    } finally {
      this.running--;
    }
  }

  private takeBatch(): Waiting<T>[] {
    let n = 0;
    let weight = 0;
    while (n < this.queue.length && n < this.opts.maxItems) {
      const w = this.opts.weight(this.queue[n].item);
      if (n > 0 && weight + w > this.opts.maxWeight) break;
      weight += w;
      n++;
    }
    return this.queue.splice(0, n);
  }

  private async writeBatch(batch: Waiting<T>[]): Promise<void> {
    try {
      const outcomes = await this.opts.write(batch.map((w) => w.item));
      batch.forEach((w, i) => (outcomes[i] ? w.reject(outcomes[i]) : w.resolve()));
    } catch (err) {
      if (batch.length === 1 || this.opts.isOutage(err)) {
        for (const w of batch) w.reject(err);
        return;
      }
      for (const w of batch) await this.writeBatch([w]);
    }
  }
}
