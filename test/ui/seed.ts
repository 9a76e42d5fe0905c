import { call, serverUrl } from './fixtures.js';

// Seeding for the run/compare specs, through the real HTTP API as the mlflow client would.

/** Logs `n` points of one metric in log-batch calls of 1,000 (MLflow's cap), a few calls at a time. */
export async function logHistory(runId: string, key: string, n: number, value: (i: number) => number, start = Date.now(), concurrency = 4): Promise<void> {
  const batches = Math.ceil(n / 1000);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const b = next++;
      if (b >= batches) return;
      const metrics = [];
      for (let i = b * 1000; i < Math.min(n, (b + 1) * 1000); i++) metrics.push({ key, value: value(i), timestamp: start + i * 10, step: i });
      await call('POST', 'runs/log-batch', { run_id: runId, metrics });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** Uploads a file into the run's artifacts through the artifact proxy (the server's default root). */
export async function putArtifact(runId: string, path: string, body: string | Uint8Array, url = serverUrl()): Promise<void> {
  const run = await fetch(`${url}/api/2.0/mlflow/runs/get?run_id=${runId}`).then((r) => r.json() as Promise<{ run: { info: { artifact_uri: string } } }>);
  const uri = run.run.info.artifact_uri;
  if (!uri.startsWith('mlflow-artifacts:/')) throw new Error(`unexpected artifact root ${uri}`);
  const res = await fetch(`${url}/api/2.0/mlflow-artifacts/artifacts/${uri.slice('mlflow-artifacts:/'.length)}/${path}`, { method: 'PUT', body: typeof body === 'string' ? body : Buffer.from(body) });
  if (!res.ok) throw new Error(`PUT ${path}: ${res.status} ${await res.text()}`);
}

/** A 4x4 PNG of one colour (a real image for the image preview). */
export function tinyPng(): Uint8Array {
  return Uint8Array.from(
    Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAIAAAAmkwkpAAAAEklEQVR4nGNgYPiPhMgWAQkAAC8pD/GbGjGNAAAAAElFTkSuQmCC',
      'base64',
    ),
  );
}
