#!/usr/bin/env node
// Memory stays flat while artifacts stream through Cairn: uploads and downloads a large file through
// the artifact proxy and samples the server's resident memory (VmRSS, and the kernel's high-water
// mark VmHWM) from /proc. Linux only.
//
//   npm run build && node bench/artifact-memory.mjs                 # 2 GiB on a local folder
//   node bench/artifact-memory.mjs --size-mib 512                   # smaller
//   eval "$(bash scripts/s3-server.sh start)" && node bench/artifact-memory.mjs --s3   # through S3
//   node bench/artifact-memory.mjs --backend-store-uri postgresql://user@127.0.0.1:5432/db
//
// The metadata store defaults to TEST_DATABASE_URL, else embedded PGlite. PGlite runs Postgres
// inside the server process (several hundred MiB resident before any request), so on PGlite the
// figure that speaks for the artifact path is the growth over idle. Prints one JSON line per phase
// and a summary; exits 1 if the growth, or on a Postgres server the peak itself, passes --limit-mib.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : args[i + 1];
};
const sizeMiB = Number(flag('size-mib', '2048'));
const limitMiB = Number(flag('limit-mib', '200'));
const useS3 = args.includes('--s3');
const backendFlag = flag('backend-store-uri', process.env.TEST_DATABASE_URL);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MiB = 1024 * 1024;

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function memory(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rss: kib('VmRSS') / 1024, hwm: kib('VmHWM') / 1024 };
}

/** Samples RSS every 50 ms while fn runs; returns fn's result and the peak seen. */
async function sampled(pid, fn) {
  let peak = memory(pid).rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, memory(pid).rss);
  }, 50);
  try {
    const started = process.hrtime.bigint();
    const result = await fn();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { result, peak: Math.max(peak, memory(pid).rss), seconds };
  } finally {
    clearInterval(timer);
  }
}

function upload(port, urlPath, totalBytes) {
  // The body is generated on the fly (a random 8 MiB block, each copy tagged), so the bench itself
  // holds no file and no buffer of the whole size.
  const block = randomBytes(8 * MiB);
  const hash = createHash('sha256');
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: 'PUT', path: urlPath, headers: { 'content-type': 'application/octet-stream', 'content-length': totalBytes } },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => (res.statusCode === 200 ? resolve(hash.digest('hex')) : reject(new Error(`PUT ${res.statusCode}: ${text}`))));
      },
    );
    req.on('error', reject);
    let sent = 0;
    let n = 0;
    const pump = () => {
      while (sent < totalBytes) {
        const chunk = Buffer.from(block.subarray(0, Math.min(block.length, totalBytes - sent)));
        chunk.writeUInt32BE(n++, 0);
        hash.update(chunk);
        sent += chunk.length;
        if (!req.write(chunk)) return req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

function download(port, urlPath) {
  const hash = createHash('sha256');
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: urlPath }, (res) => {
        if (res.statusCode !== 200) return reject(new Error(`GET ${res.statusCode}`));
        let bytes = 0;
        res.on('data', (c) => {
          bytes += c.length;
          hash.update(c);
        });
        res.on('end', () => resolve({ bytes, sha: hash.digest('hex') }));
      })
      .on('error', reject);
  });
}

async function main() {
  if (!fs.existsSync(path.join(repo, 'dist', 'src', 'main.js'))) throw new Error('run `npm run build` first');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-bench-mem-'));
  const port = await freePort();
  const env = { ...process.env };
  let destination = path.join(work, 'artifacts');
  if (useS3) {
    if (!process.env.CAIRN_TEST_S3_ENDPOINT) throw new Error('--s3 needs CAIRN_TEST_S3_ENDPOINT (eval "$(bash scripts/s3-server.sh start)")');
    env.MLFLOW_S3_ENDPOINT_URL = process.env.CAIRN_TEST_S3_ENDPOINT;
    destination = `s3://${process.env.CAIRN_TEST_S3_BUCKET ?? 'cairn-test'}/bench-${Date.now()}`;
  }
  const server = spawn(
    process.execPath,
    [path.join(repo, 'bin', 'cairn.js'), 'server', '--host', '127.0.0.1', '--port', String(port), '--workers', '1',
      '--backend-store-uri', backendFlag ?? `pglite://${path.join(work, 'db')}`, '--artifacts-destination', destination],
    { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  server.stdout.on('data', (c) => (log += c));
  server.stderr.on('data', (c) => (log += c));
  try {
    for (let i = 0; ; i++) {
      if (server.exitCode !== null) throw new Error(`server exited:\n${log}`);
      const ok = await new Promise((resolve) => http.get({ host: '127.0.0.1', port, path: '/health' }, (r) => { r.resume(); resolve(r.statusCode === 200); }).on('error', () => resolve(false)));
      if (ok) break;
      if (i > 300) throw new Error(`server did not start:\n${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const total = sizeMiB * MiB;
    const key = `/api/2.0/mlflow-artifacts/artifacts/0/bench/artifacts/big-${sizeMiB}MiB.bin`;
    const idle = memory(server.pid);
    const metadata = backendFlag ? 'postgres' : 'pglite';
    const report = (phase, o) => console.log(JSON.stringify({ phase, store: useS3 ? 's3' : 'local', metadata, size_mib: sizeMiB, ...o }));
    report('idle', { rss_mib: +idle.rss.toFixed(1) });
    const up = await sampled(server.pid, () => upload(port, key, total));
    report('upload', { peak_rss_mib: +up.peak.toFixed(1), seconds: +up.seconds.toFixed(1), mib_per_s: +(sizeMiB / up.seconds).toFixed(0) });
    const down = await sampled(server.pid, () => download(port, key));
    if (down.result.bytes !== total || down.result.sha !== up.result) throw new Error('downloaded bytes differ from the upload');
    report('download', { peak_rss_mib: +down.peak.toFixed(1), seconds: +down.seconds.toFixed(1), mib_per_s: +(sizeMiB / down.seconds).toFixed(0) });
    const hwm = memory(server.pid).hwm;
    const peak = Math.max(up.peak, down.peak);
    const growth = peak - idle.rss;
    report('summary', {
      idle_rss_mib: +idle.rss.toFixed(1), peak_rss_mib: +peak.toFixed(1), growth_mib: +growth.toFixed(1),
      vm_hwm_mib: +hwm.toFixed(1), limit_mib: limitMiB, bytes_identical: true,
    });
    await fetch(`http://127.0.0.1:${port}${key}`, { method: 'DELETE' });
    const judged = metadata === 'postgres' ? peak : growth;
    if (judged > limitMiB) {
      console.error(`server ${metadata === 'postgres' ? 'peak resident memory' : 'memory growth over idle'} ${judged.toFixed(1)} MiB is over the ${limitMiB} MiB limit`);
      process.exitCode = 1;
    }
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
