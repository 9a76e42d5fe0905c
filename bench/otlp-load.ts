// The two ways bench/traces.ts offers OTLP exports to a server:
//   - saturating: every exporter sends its next request as soon as the last is answered, so the
//     figure is the server's throughput, and latency is only the queue (exporters / throughput);
//   - paced: every exporter sends one request per interval, at fixed times whatever the server does
//     (as an exporter's batch processor does on its schedule), so both servers are offered the same
//     load and the figure is the latency at that load. A request sent late because the exporter's
//     previous one was still unanswered counts from when it was due, so a server that falls behind
//     is not flattered by the exporters slowing down with it.
import type { Pool } from 'undici';

export interface LoadResult {
  perS: number;
  p50: number;
  p99: number;
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

export async function postOk(pool: Pool, p: string, body: string, headers: Record<string, string>): Promise<number> {
  const res = await pool.request({ method: 'POST', path: p, body, headers: { 'content-type': 'application/json', ...headers } });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`POST ${p} -> ${res.statusCode}: ${text.slice(0, 300)}`);
  return text.length;
}

function summary(latencies: number[], requests: number, started: number): LoadResult {
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { perS: requests / seconds, p50: pct(latencies, 50), p99: pct(latencies, 99) };
}

/** `exporters` loops of `perExporter` requests, each sent when the last is answered. */
export async function saturating(pool: Pool, exporters: number, perExporter: number, send: () => Promise<unknown>): Promise<LoadResult> {
  const latencies: number[] = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: exporters }, async () => {
      for (let i = 0; i < perExporter; i++) {
        const s = performance.now();
        await send();
        latencies.push(performance.now() - s);
      }
    }),
  );
  return summary(latencies, exporters * perExporter, t0);
}

/**
 * `exporters` loops of `perExporter` requests, exporter e's k-th due at e/exporters + k intervals
 * (their phases spread over one interval, as independent services' schedules are).
 */
export async function paced(exporters: number, perExporter: number, intervalMs: number, send: () => Promise<unknown>): Promise<LoadResult> {
  const latencies: number[] = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: exporters }, async (_, e) => {
      for (let k = 0; k < perExporter; k++) {
        const due = t0 + ((e / exporters) + k) * intervalMs;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        await send();
        latencies.push(performance.now() - due);
      }
    }),
  );
  return summary(latencies, exporters * perExporter, t0);
}
