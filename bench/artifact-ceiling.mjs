#!/usr/bin/env node
// What this machine allows for one artifact transfer, whatever the server: a bare node:http server
// that pipes a PUT into a file and a GET out of it (1 MiB reads), driven like the bench's artifact
// scenario (same client, one unmeasured round trip, then one transfer at a time). It answers the
// question the artifact rows of `npm run bench` leave open: how far above MLflow any server could be.
//
//   node bench/artifact-ceiling.mjs                  # 100 MiB, 5 rounds, in a temp folder
//   node bench/artifact-ceiling.mjs --size-mib 20 --rounds 3
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return Number(i === -1 ? fallback : args[i + 1]);
};
const sizeMiB = flag('size-mib', 100);
const rounds = flag('rounds', 5);

const SERVER = `
const http = require('node:http'), fs = require('node:fs'), { pipeline } = require('node:stream/promises');
const dir = process.argv[1];
const server = http.createServer(async (req, res) => {
  const file = dir + '/' + encodeURIComponent(req.url);
  try {
    if (req.method === 'PUT') { await pipeline(req, fs.createWriteStream(file)); res.end('{}'); return; }
    const { size } = fs.statSync(file);
    res.writeHead(200, { 'content-length': size });
    await pipeline(fs.createReadStream(file, { highWaterMark: 1 << 20 }), res);
  } catch { res.destroy(); }
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-ceiling-'));
const child = spawn(process.execPath, ['-e', SERVER, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
try {
  const port = await new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(Number(String(d).trim())));
    child.once('exit', (code) => reject(new Error(`ceiling server exited with ${code}`)));
  });
  const base = `http://127.0.0.1:${port}`;
  const blob = randomBytes(sizeMiB * 1024 * 1024);
  const put = async (name) => {
    const res = await request(`${base}/${name}`, { method: 'PUT', body: blob });
    await res.body.text();
  };
  const get = async (name) => {
    const res = await request(`${base}/${name}`);
    let bytes = 0;
    for await (const chunk of res.body) bytes += chunk.length;
    if (bytes !== blob.length) throw new Error(`download returned ${bytes} of ${blob.length} bytes`);
  };
  await put('warm-up');
  await get('warm-up');
  const time = async (fn) => {
    const start = performance.now();
    await fn();
    return performance.now() - start;
  };
  const up = [];
  const down = [];
  for (let i = 0; i < rounds; i++) up.push(await time(() => put(`f${i}`)));
  for (let i = 0; i < rounds; i++) down.push(await time(() => get(`f${i}`)));
  // As the bench reports it: size over the mean time of one transfer.
  const mibps = (ms) => Number((sizeMiB / (ms.reduce((a, b) => a + b, 0) / ms.length / 1000)).toFixed(1));
  console.log(JSON.stringify({ sizeMiB, rounds, uploadMiBps: mibps(up), downloadMiBps: mibps(down) }));
} finally {
  child.kill();
  fs.rmSync(dir, { recursive: true, force: true });
}
