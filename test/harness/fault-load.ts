import type { ServerProcess } from './crash-server.js';

// Clients writing through a fault: each writer creates runs one after another, tagged with its own
// (writer, seq), and records every answer. After the fault the tags tell which runs exist, so the
// test can check that every acknowledged write is there exactly once.

export interface Answer {
  writer: number;
  seq: number;
  /** When the request was sent and answered (ms since the epoch). */
  sentAt: number;
  doneAt: number;
  /** HTTP status, or 0 when the request got no answer (refused, reset, or past the client's timeout). */
  status: number;
  errorCode?: string;
  retryAfter?: string | null;
  /** The run id of an acknowledged write. */
  runId?: string;
  failure?: string;
}

export interface Load {
  answers: Answer[];
  /** Resolves once `predicate` holds for the answers so far (checked after each answer). */
  until(predicate: (answers: Answer[]) => boolean, what: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface WriteRequest {
  method: 'POST' | 'PUT';
  path: string;
  body: string;
}

export interface LoadOptions {
  writers: number;
  requestTimeoutMs: number;
  /** The write to send; runs/create with (writer, seq) tags by default. */
  request?: (writer: number, seq: number) => WriteRequest;
}

export function startLoad(server: ServerProcess, experimentId: string, opts: LoadOptions): Load {
  const answers: Answer[] = [];
  const waiters: { predicate: (a: Answer[]) => boolean; resolve: () => void }[] = [];
  let running = true;
  const record = (a: Answer) => {
    answers.push(a);
    for (const w of [...waiters]) {
      if (w.predicate(answers)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  const writer = async (w: number) => {
    for (let seq = 0; running; seq++) {
      const sentAt = Date.now();
      const req = opts.request?.(w, seq) ?? {
        method: 'POST',
        path: '/api/2.0/mlflow/runs/create',
        body: JSON.stringify({
          experiment_id: experimentId,
          start_time: sentAt,
          tags: [
            { key: 'fault.writer', value: String(w) },
            { key: 'fault.seq', value: String(seq) },
          ],
        }),
      };
      try {
        const res = await fetch(`${server.baseUrl}${req.path}`, {
          method: req.method,
          headers: { 'Content-Type': req.method === 'POST' ? 'application/json' : 'application/octet-stream' },
          body: req.body,
          signal: AbortSignal.timeout(opts.requestTimeoutMs),
        });
        const text = await res.text();
        let parsed: { run?: { info?: { run_id?: string } }; error_code?: string } = {};
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON: kept in failure below
        }
        record({
          writer: w,
          seq,
          sentAt,
          doneAt: Date.now(),
          status: res.status,
          errorCode: parsed.error_code,
          retryAfter: res.headers.get('retry-after'),
          runId: res.status === 200 ? parsed.run?.info?.run_id : undefined,
          failure: res.status === 200 ? undefined : text.slice(0, 300),
        });
        // Back off a little on a refusal, as the real clients do, so an outage is not a busy loop.
        if (res.status !== 200) await new Promise((r) => setTimeout(r, 25));
      } catch (err) {
        record({ writer: w, seq, sentAt, doneAt: Date.now(), status: 0, failure: String((err as Error)?.cause ?? err) });
        await new Promise((r) => setTimeout(r, 25));
      }
    }
  };
  const done = Promise.all(Array.from({ length: opts.writers }, (_, w) => writer(w)));
  return {
    answers,
    until(predicate, what, timeoutMs = 30_000) {
      if (predicate(answers)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last answers: ${JSON.stringify(answers.slice(-5))}`));
        }, timeoutMs);
        const waiter = {
          predicate,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
        waiters.push(waiter);
      });
    },
    async stop() {
      running = false;
      await done;
    },
  };
}

/** Every run of the experiment, with its (writer, seq) tags. */
export async function runsByTag(server: ServerProcess, experimentId: string): Promise<Map<string, string[]>> {
  const byKey = new Map<string, string[]>();
  let token: string | undefined;
  do {
    const res = await fetch(`${server.baseUrl}/api/2.0/mlflow/runs/search`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ experiment_ids: [experimentId], max_results: 1000, page_token: token }),
    });
    if (res.status !== 200) throw new Error(`runs/search -> ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { runs?: { info: { run_id: string }; data: { tags?: { key: string; value: string }[] } }[]; next_page_token?: string };
    for (const run of body.runs ?? []) {
      const tag = (k: string) => run.data.tags?.find((t) => t.key === k)?.value;
      const key = `${tag('fault.writer')}/${tag('fault.seq')}`;
      byKey.set(key, [...(byKey.get(key) ?? []), run.info.run_id]);
    }
    token = body.next_page_token;
  } while (token);
  return byKey;
}

/** Every acknowledged write is there exactly once, under its own run id; no other write is there twice. */
export function checkWrites(answers: Answer[], stored: Map<string, string[]>): { acked: number; problems: string[] } {
  const problems: string[] = [];
  let acked = 0;
  for (const a of answers) {
    const found = stored.get(`${a.writer}/${a.seq}`) ?? [];
    if (a.status === 200) {
      acked++;
      if (found.length !== 1 || found[0] !== a.runId) problems.push(`acknowledged write ${a.writer}/${a.seq} (${a.runId}) stored as [${found.join(', ')}]`);
    } else if (found.length > 1) {
      problems.push(`unacknowledged write ${a.writer}/${a.seq} stored ${found.length} times`);
    }
  }
  return { acked, problems };
}

export async function createExperiment(server: ServerProcess, name: string): Promise<string> {
  const res = await fetch(`${server.baseUrl}/api/2.0/mlflow/experiments/create`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  if (res.status !== 200) throw new Error(`experiments/create -> ${res.status} ${await res.text()}`);
  return ((await res.json()) as { experiment_id: string }).experiment_id;
}
