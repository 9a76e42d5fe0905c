import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { buildIfStale, repoRoot } from './build.js';

// The real `cairn server` as a child process, for tests that kill it: the in-process test app cannot
// be SIGKILLed without taking vitest with it.

export { repoRoot };

/** vitest's globalSetup has built already; this keeps a file run some other way honest too. */
export function ensureBuilt(): void {
  buildIfStale();
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  proc: ChildProcess;
  baseUrl: string;
  /** Everything the process wrote to stdout and stderr so far, for failure messages. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `extraArgs` come last, so they override the defaults above them (`--workers 2`). */
export async function startServer(backendStoreUri: string, dataDir: string, timeoutMs = 60_000, extraArgs: string[] = [], env?: NodeJS.ProcessEnv): Promise<ServerProcess> {
  const port = await freePort();
  const args = ['bin/cairn.js', 'server', '--host', '127.0.0.1', '--port', String(port), '--backend-store-uri', backendStoreUri, '--workers', '1', '--data-dir', dataDir, ...extraArgs];
  const proc = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const server: ServerProcess = { proc, baseUrl: `http://127.0.0.1:${port}`, output: () => out, exited };
  const deadline = Date.now() + timeoutMs;
  let gone: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void exited.then((e) => (gone = e));
  while (Date.now() < deadline) {
    if (gone) throw new Error(`cairn server exited during start-up (code ${gone.code}, signal ${gone.signal}):\n${out}`);
    if (out.includes('Cairn listening')) {
      const ok = await fetch(`${server.baseUrl}/health`).then((r) => r.ok, () => false);
      if (ok) return server;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  proc.kill('SIGKILL');
  throw new Error(`cairn server did not start within ${timeoutMs} ms:\n${out}`);
}

/** SIGTERM, then SIGKILL if it lingers; resolves once the process is gone. */
export async function stopServer(server: ServerProcess | undefined): Promise<void> {
  if (!server || server.proc.exitCode !== null || server.proc.signalCode !== null) return;
  server.proc.kill('SIGTERM');
  const timer = setTimeout(() => server.proc.kill('SIGKILL'), 10_000);
  await server.exited;
  clearTimeout(timer);
}
