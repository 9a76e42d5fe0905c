import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort, repoRoot } from './crash-server.js';

/**
 * An S3 server (moto, through scripts/s3-server.sh and its cached venv) of the test's own, which
 * the fault tests kill, restart on the same port, and freeze. moto keeps objects in memory, so a
 * restart starts from an empty bucket (recreated by the script).
 */
export interface S3Server {
  endpoint: string;
  bucket: string;
  /** What `cairn server` needs in its environment to use it. */
  env: NodeJS.ProcessEnv;
  kill(): Promise<void>;
  restart(): Promise<void>;
  freeze(): void;
  thaw(): void;
  destroy(): Promise<void>;
}

export async function startS3Server(bucket: string): Promise<S3Server> {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-fault-s3.'));
  const port = await freePort();
  const script = path.join(repoRoot, 'scripts/s3-server.sh');
  const scriptEnv = { ...process.env, CAIRN_S3_DIR: state, CAIRN_S3_PORT: String(port), CAIRN_TEST_S3_BUCKET: bucket };
  let pid = 0;
  const start = async () => {
    let stdout: string;
    try {
      ({ stdout } = await promisify(execFile)('bash', [script, 'start'], { env: scriptEnv, encoding: 'utf8', timeout: 300_000 }));
    } catch (err) {
      throw new Error(`the fault tests need an S3 server of their own (moto via scripts/s3-server.sh, python3 with venv): ${(err as { stderr?: string }).stderr ?? err}`);
    }
    pid = Number(/CAIRN_S3_SERVER_PID=(\d+)/.exec(stdout)?.[1]);
    if (!pid) throw new Error(`scripts/s3-server.sh printed no PID: ${stdout}`);
  };
  await start();
  const endpoint = `http://127.0.0.1:${port}`;
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  };
  const gone = async () => {
    for (let i = 0; i < 200; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  return {
    endpoint,
    bucket,
    env: {
      MLFLOW_S3_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: 'cairn-test',
      AWS_SECRET_ACCESS_KEY: 'cairn-test-secret',
      AWS_DEFAULT_REGION: 'us-east-1',
    },
    async kill() {
      signal('SIGKILL');
      await gone();
    },
    restart: start,
    freeze: () => signal('SIGSTOP'),
    thaw: () => signal('SIGCONT'),
    async destroy() {
      signal('SIGCONT');
      signal('SIGKILL');
      await gone();
      fs.rmSync(state, { recursive: true, force: true });
    },
  };
}
