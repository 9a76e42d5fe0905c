import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './crash-server.js';

/**
 * A throwaway Postgres cluster of the test's own (as .ci/run and bench/ start one), which the fault
 * tests may stop, restart and freeze without disturbing anyone else's database. Missing server
 * binaries are an error, never a silent pass.
 */
export interface PgCluster {
  port: number;
  /** postgresql://… URL of the test database. */
  url: string;
  /** `pg_ctl stop -m fast`: every connection is terminated (57P01), new ones are refused. Async, so load keeps flowing. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** The server's log so far. */
  log(): string;
  /** Thawed and started again if a failed test left it frozen or stopped, so the next test starts clean. */
  ensureUp(): Promise<void>;
  /** SIGSTOP / SIGCONT on the postmaster and every backend: connections stay open, nothing answers. */
  freeze(): void;
  thaw(): void;
  /** A SQL statement as the superuser (in the test database unless `db` says otherwise), returning psql's unaligned output. */
  psql(sqlText: string, db?: string): string;
  destroy(): void;
}

function findPgBin(): string {
  const candidates: string[] = [];
  const onPath = spawnSync('sh', ['-c', 'command -v pg_ctl'], { encoding: 'utf8' }).stdout.trim();
  if (onPath) candidates.push(path.dirname(fs.realpathSync(onPath)));
  const root = '/usr/lib/postgresql';
  if (fs.existsSync(root)) for (const v of fs.readdirSync(root).sort((a, b) => Number(b) - Number(a))) candidates.push(path.join(root, v, 'bin'));
  const bin = candidates.find((d) => ['pg_ctl', 'initdb', 'postgres', 'psql'].every((b) => fs.existsSync(path.join(d, b))));
  if (!bin) {
    throw new Error(
      'The fault tests need the PostgreSQL server binaries (initdb, pg_ctl, postgres, psql) on PATH or under /usr/lib/postgresql/*/bin ' +
        'to stop and freeze a cluster of their own. Install them (Debian: apt-get install postgresql; .ci/run does this).',
    );
  }
  return bin;
}

export async function startPgCluster(opts: { maxConnections?: number } = {}): Promise<PgCluster> {
  const bin = findPgBin();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-fault-pg.'));
  const asRoot = process.getuid?.() === 0;
  // initdb refuses to run as root: as root the cluster belongs to the postgres user.
  const run = (cmd: string, args: string[]) => {
    const [c, a] = asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
    return execFileSync(c, a, { cwd: tmp, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  };
  const runAsync = async (cmd: string, args: string[]) => {
    const [c, a] = asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
    await promisify(execFile)(c, a, { cwd: tmp, encoding: 'utf8' });
  };
  if (asRoot) {
    if (spawnSync('id', ['postgres']).status !== 0) execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
    execFileSync('chown', ['postgres:', tmp]);
  }
  const data = path.join(tmp, 'data');
  const logFile = path.join(tmp, 'postgres.log');
  const port = await freePort();
  const settings = [
    '-c listen_addresses=127.0.0.1',
    `-p ${port}`,
    `-c unix_socket_directories=${tmp}`,
    `-c max_connections=${opts.maxConnections ?? 100}`,
    // Durable as a deployment runs it: a write acknowledged before `pg_ctl stop` must survive it.
    '-c fsync=on',
    '-c synchronous_commit=on',
    '-c shared_buffers=32MB',
  ].join(' ');
  const pgCtl = (...args: string[]) => run(path.join(bin, 'pg_ctl'), ['-D', data, ...args]);
  const startArgs = ['-D', data, '-l', logFile, '-w', '-t', '60', 'start', '-o', settings];
  const start = () => run(path.join(bin, 'pg_ctl'), startArgs);
  try {
    run(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--encoding=UTF8', '--locale=C', '--auth-local=trust', '--auth-host=trust']);
    start();
  } catch (err) {
    const detail = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : String((err as { stderr?: string }).stderr ?? err);
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(`could not start a throwaway Postgres cluster: ${detail.trim().split('\n').slice(-5).join(' | ')}`);
  }
  const psql = (sqlText: string, db = 'postgres') =>
    run(path.join(bin, 'psql'), ['-h', tmp, '-p', String(port), '-U', 'postgres', '-d', db, '-v', 'ON_ERROR_STOP=1', '-qAt', '-c', sqlText]);
  psql('CREATE DATABASE cairn');
  // The postmaster and its children, by PID: the postmaster's from postmaster.pid, the others by parent.
  const pids = (): number[] => {
    const master = Number(fs.readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return [master, ...childrenOf(master)];
  };
  let frozen: number[] = [];
  let destroyed = false;
  const thaw = () => {
    for (const pid of frozen) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // a backend that ended meanwhile
      }
    }
    frozen = [];
  };
  return {
    port,
    url: `postgresql://postgres@127.0.0.1:${port}/cairn`,
    stop: () => runAsync(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']),
    start: () => runAsync(path.join(bin, 'pg_ctl'), startArgs),
    log: () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : ''),
    async ensureUp() {
      thaw();
      // pg_ctl status exits 3 when the server is not running.
      try {
        pgCtl('status');
      } catch {
        await runAsync(path.join(bin, 'pg_ctl'), startArgs);
      }
    },
    freeze() {
      frozen = pids();
      for (const pid of frozen) process.kill(pid, 'SIGSTOP');
    },
    thaw,
    psql: (sqlText, db = 'cairn') => psql(sqlText, db),
    destroy() {
      if (destroyed) return;
      destroyed = true;
      thaw();
      try {
        pgCtl('-m', 'immediate', '-w', 'stop');
      } catch {
        // already stopped
      }
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/** Child PIDs from /proc (no procps needed on a bare CI machine). */
export function childrenOf(parent: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
