import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

// Starts the built Cairn (bin/cairn.js) on a free loopback port and waits for /health.

const root = path.resolve(import.meta.dirname, '../..');

export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });

export interface RunningCairn {
  url: string;
  stop: () => Promise<void>;
}

export async function startCairn(args: string[]): Promise<RunningCairn> {
  const port = await freePort();
  const child = spawn(process.execPath, ['bin/cairn.js', 'server', '--host', '127.0.0.1', '--port', String(port), '--workers', '1', ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const url = `http://127.0.0.1:${port}`;
  // A first start creates the embedded database (initdb); on a loaded 2-core machine that can take a minute.
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Cairn exited during start-up:\n${log}`);
    if (await fetch(`${url}/health`).then((r) => r.ok, () => false)) break;
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`Cairn did not answer /health within 180 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
