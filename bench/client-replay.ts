// The mlflow client's default path as a server's load: what one client process sends for a trace,
// captured from the real client, then sent again by many concurrent senders.
//
// Why: one Python process spends ~7.5 ms of its own CPU a trace (docs/bench.md), so the client path
// measured with one process stops near 130 traces/s whatever the server does, and more client
// processes on this 2-core machine take the CPU the servers need. The server's own throughput on
// that path is measured here instead, on the client's own bytes:
//   1. capture: the real mlflow client runs the bench's traces through a recording proxy to the
//      server (so each server gets what the client sends to it, which depends on its answers);
//   2. replay: each sender, for a fresh trace id, sends one trace's span request (`POST /v1/traces`,
//      the client's protobuf) and its StartTraceV3 at the same time (the client's two export threads
//      do), then uploads `traces.json` when StartTraceV3's answer does not say the server holds the
//      spans (the client's own rule: `mlflow.trace.spansLocation`), as the client does. One span
//      request a trace, where the client's default batches of up to five spans make ~0.6: a little
//      more work for either server than the client gives it.
// The trace id is the only thing changed in the captured bodies (as 16 bytes, hex and base64: all
// three keep their lengths, so the protobuf framing stays valid).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { Pool, request } from 'undici';
import { saturating, type LoadResult } from './otlp-load.js';

/** The bench's trace, as Python: a root and two children with inputs and outputs. */
export const CLIENT_TRACE_PY = `
import mlflow
def one(i):
    with mlflow.start_span("agent") as root:
        root.set_inputs({"question": f"q{i}"})
        with mlflow.start_span("retrieve") as r:
            r.set_outputs([{"doc": "d", "score": 0.5}])
        with mlflow.start_span("generate") as g:
            g.set_outputs("an answer")
        root.set_outputs("an answer")
`;

interface Recorded {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** A captured request and the trace id it names, which a replay substitutes. */
interface Template extends Recorded {
  id: Buffer;
}

export interface CapturedTrace {
  spans: Template;
  start: Template;
  /** The `traces.json` upload, when the capture saw one (a server that holds the spans may never ask for it). */
  upload?: Template;
  /** How many of the captured traces the client uploaded, of how many. */
  uploads: { seen: number; of: number };
}

const execFileAsync = promisify(execFile);

/** The environment the bench runs the real client in, against `url`. */
export const clientEnv = (url: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  ...process.env, MLFLOW_TRACKING_URI: url, MLFLOW_DISABLE_TELEMETRY: 'true', DO_NOT_TRACK: 'true', ...extra,
});

const SPANS_LOCATION = 'mlflow.trace.spansLocation';
const DROPPED_HEADERS = new Set(['host', 'content-length', 'connection', 'transfer-encoding', 'keep-alive']);

const idForms = (id: Buffer) => [id, Buffer.from(id.toString('hex')), Buffer.from(id.toString('base64'))];

function replaceAll(body: Buffer, from: Buffer, to: Buffer): void {
  for (let at = body.indexOf(from); at !== -1; at = body.indexOf(from, at + to.length)) to.copy(body, at);
}

/** The template's body with its trace id replaced by `id`, in every form it takes. */
function instantiate(t: Template, id: Buffer): { path: string; body: Buffer } {
  const body = Buffer.from(t.body);
  const forms = idForms(t.id);
  const next = idForms(id);
  forms.forEach((f, i) => replaceAll(body, f, next[i]));
  return { path: t.path.split(t.id.toString('hex')).join(id.toString('hex')), body };
}

const count = (body: Buffer, what: Buffer) => {
  let n = 0;
  for (let at = body.indexOf(what); at !== -1; at = body.indexOf(what, at + 1)) n++;
  return n;
};

/** Runs `traces` traces of the real client through a recording proxy to `url`, and picks one trace's requests. */
export async function captureClientTrace(venv: string, url: string, experiment: string, traces: number): Promise<CapturedTrace> {
  const recorded: Recorded[] = [];
  const proxy = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !DROPPED_HEADERS.has(k)).map(([k, v]) => [k, String(v)]));
      recorded.push({ method: req.method!, path: req.url!, headers, body });
      request(url + req.url, { method: req.method as 'GET', headers, body: body.length ? body : undefined })
        .then(async (r) => {
          const out = Buffer.from(await r.body.arrayBuffer());
          res.writeHead(r.statusCode, { 'content-type': String(r.headers['content-type'] ?? 'application/json') }).end(out);
        })
        .catch((err: Error) => res.writeHead(502).end(err.message));
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const script = `${CLIENT_TRACE_PY}
mlflow.tracing.enable()
mlflow.set_experiment(experiment_id=${JSON.stringify(experiment)})
for i in range(${traces}):
    one(i)
mlflow.flush_trace_async_logging()
`;
  try {
    await execFileAsync(path.join(venv, 'bin', 'python'), ['-c', script], {
      // Batches of three spans, so that most span requests hold one whole trace (by default the
      // client sends up to five spans a request, parts of two traces).
      env: clientEnv(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, { MLFLOW_ASYNC_TRACE_LOGGING_MAX_SPAN_BATCH_SIZE: '3' }),
      maxBuffer: 64 * 1024 * 1024,
    });
  } finally {
    await new Promise((r) => proxy.close(r));
  }
  return pickTrace(recorded);
}

function pickTrace(recorded: Recorded[]): CapturedTrace {
  const starts = recorded.filter((r) => r.method === 'POST' && r.path === '/api/3.0/mlflow/traces');
  const spanPosts = recorded.filter((r) => r.method === 'POST' && r.path === '/v1/traces');
  const uploads = recorded.filter((r) => r.method === 'PUT' && r.path.endsWith('/traces.json'));
  const idOf = (start: Recorded) => {
    const traceId = (JSON.parse(start.body.toString('utf8')) as { trace: { trace_info: { trace_id: string } } }).trace.trace_info.trace_id;
    return Buffer.from(traceId.replace(/^tr-/, ''), 'hex');
  };
  const ids = starts.map(idOf);
  // A span request that holds one trace's three spans and nothing of another trace's (the client
  // batches spans, so some requests hold parts of two traces).
  for (const [i, id] of ids.entries()) {
    const spans = spanPosts.find((r) => count(r.body, id) === 3 && ids.every((other) => other === id || !r.body.includes(other)));
    if (!spans) continue;
    const upload = uploads[0] && { ...uploads[0], id: ids.find((other) => uploads[0].path.includes(other.toString('hex')))! };
    return { spans: { ...spans, id }, start: { ...starts[i], id }, upload, uploads: { seen: uploads.length, of: starts.length } };
  }
  throw new Error(`the capture holds no span request with one whole trace (${starts.length} StartTraceV3, ${spanPosts.length} span requests)`);
}

async function send(pool: Pool, method: 'POST' | 'PUT', t: Template, id: Buffer): Promise<string> {
  const { path: p, body } = instantiate(t, id);
  const res = await pool.request({ method, path: p, body, headers: t.headers });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`${method} ${p} -> ${res.statusCode}: ${text.slice(0, 300)}`);
  return text;
}

/** One trace as the client sends it, under a fresh id; resolves to whether it uploaded `traces.json`. */
async function replayOne(pool: Pool, c: CapturedTrace, id: Buffer): Promise<boolean> {
  const [, started] = await Promise.all([send(pool, 'POST', c.spans, id), send(pool, 'POST', c.start, id)]);
  const tags = (JSON.parse(started) as { trace?: { trace_info?: { tags?: Record<string, string> } } }).trace?.trace_info?.tags ?? {};
  if (tags[SPANS_LOCATION] === 'TRACKING_STORE') return false;
  if (!c.upload) throw new Error('the server asked for a traces.json upload, and the capture saw none to replay');
  await send(pool, 'PUT', c.upload, id);
  return true;
}

/**
 * `senders` loops of `perSender` traces, each sent when the last is done (bench/otlp-load.ts):
 * traces/s, each trace's latency, how many uploaded `traces.json`, and the last trace's id.
 */
export async function replayClientPath(pool: Pool, c: CapturedTrace, senders: number, perSender: number): Promise<LoadResult & { uploaded: number; lastTraceId: string }> {
  let uploaded = 0;
  let lastTraceId = '';
  const result = await saturating(pool, senders, perSender, async () => {
    const id = randomBytes(16);
    if (await replayOne(pool, c, id)) uploaded++;
    lastTraceId = `tr-${id.toString('hex')}`;
  });
  return { ...result, uploaded, lastTraceId };
}

/** Reads a replayed trace back with the real client and fails unless it holds the captured trace's three spans. */
export async function checkReplayedTrace(venv: string, url: string, traceId: string): Promise<void> {
  const script = `
import mlflow
trace = mlflow.get_trace(${JSON.stringify(traceId)})
names = sorted(s.name for s in trace.data.spans) if trace else None
assert names == ["agent", "generate", "retrieve"], f"replayed trace ${traceId}: spans {names}"
`;
  await execFileAsync(path.join(venv, 'bin', 'python'), ['-c', script], { env: clientEnv(url) });
}
