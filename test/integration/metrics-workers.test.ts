// /metrics under --workers 2: whichever worker a scrape reaches, it answers the sum over all workers.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServer, type ServerProcess } from '../harness/crash-server.js';
import { startPgCluster, type PgCluster } from '../harness/pg-cluster.js';

let cluster: PgCluster | undefined;
let server: ServerProcess;
let dataDir: string;

beforeAll(async () => {
  // Workers need Postgres (the embedded database is one process): the suite's, or one of our own.
  let url = process.env.TEST_DATABASE_URL;
  if (!url) {
    cluster = await startPgCluster();
    url = cluster.url;
  }
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-metrics-workers-'));
  server = await startServer(url, dataDir, 120_000, ['--workers', '2', '--expose-prometheus', dataDir]);
}, 300_000);

afterAll(async () => {
  server?.proc.kill('SIGTERM');
  await server?.exited;
  cluster?.destroy();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** One request on a connection of its own, so node:cluster hands the requests out to both workers in turn. */
function getOnNewConnection(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false, headers: { Host: '127.0.0.1' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

const served = (scrape: string) =>
  Number(/^mlflow_http_request_total\{[^}]*route="\/api\/2\.0\/mlflow\/experiments\/get"[^}]*status="200"[^}]*\} (\d+)/m.exec(scrape)?.[1] ?? 0);

it('sums every worker in each scrape, whichever worker answers it', async () => {
  for (let i = 0; i < 20; i++) {
    expect((await getOnNewConnection(`${server.baseUrl}/api/2.0/mlflow/experiments/get?experiment_id=0`)).status).toBe(200);
  }
  // Each scrape on its own connection, so they too reach both workers.
  for (let i = 0; i < 6; i++) {
    const scrape = await getOnNewConnection(`${server.baseUrl}/metrics`);
    expect(scrape.status, scrape.body).toBe(200);
    expect(served(scrape.body)).toBe(20);
  }
}, 120_000);
