import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

// With --workers N, node:cluster hands each connection to one worker, so a scrape reaches one of
// them at random; each worker's own counters would jump between scrapes. The scraped worker asks
// the primary, which gathers every worker's registry over IPC (prom-client's AggregatorRegistry:
// counters and histograms summed) and answers with the whole. MLflow gets the same from
// prometheus_flask_exporter's multiprocess files in --expose-prometheus's folder; Cairn needs no folder.

const ASK = 'cairn:metrics-ask';
const ANSWER = 'cairn:metrics-answer';

interface Ask {
  type: typeof ASK;
  id: number;
}
interface Answer {
  type: typeof ANSWER;
  id: number;
  text?: string;
  error?: string;
}

/** In the primary: answer workers' asks with the aggregate of all workers. */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: Ask) => {
    if (message?.type !== ASK) return;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: ANSWER, id: message.id, text } satisfies Answer),
      (err: Error) => worker.send({ type: ANSWER, id: message.id, error: err.message } satisfies Answer),
    );
  });
}

/** In a worker: offer this registry to the primary's aggregation, and get a function that asks for the whole. */
export function clusterScrape(registry: Registry): () => Promise<string> {
  // The constructor installs prom-client's worker-side listener; setRegistries names what it reports.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
  let next = 0;
  const pending = new Map<number, { resolve(text: string): void; reject(err: Error): void }>();
  process.on('message', (message: Answer) => {
    if (message?.type !== ANSWER) return;
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.error !== undefined) waiter?.reject(new Error(message.error));
    else waiter?.resolve(message.text ?? '');
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error('the primary process did not answer within 10 s'));
      }, 10_000);
      timer.unref();
      pending.set(id, {
        resolve: (text) => (clearTimeout(timer), resolve(text)),
        reject: (err) => (clearTimeout(timer), reject(err)),
      });
      process.send?.({ type: ASK, id } satisfies Ask);
    });
}
