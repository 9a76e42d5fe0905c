import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './util.js';

/** A throwaway Postgres cluster in a temp folder, as .ci/run starts one: both servers get a database in it. */
export interface PgCluster {
  version: string;
  port: number;
  /** postgresql://… URL of a fresh database owned by the bench role. */
  createDatabase(name: string): string;
  /** Runs one SQL statement in the named database, as the superuser; returns psql's unaligned output. */
  psql(db: string, sqlText: string): string;
  stop(): void;
}

const ROLE = 'bench';
const PASSWORD = 'bench';

export function findPgBin(): string | undefined {
  const candidates: string[] = [];
  const onPath = spawnSync('sh', ['-c', 'command -v pg_ctl'], { encoding: 'utf8' }).stdout.trim();
  if (onPath) candidates.push(path.dirname(fs.realpathSync(onPath)));
  // Debian keeps the server binaries off PATH, one folder per major version; take the newest.
  const root = '/usr/lib/postgresql';
  if (fs.existsSync(root)) {
    const versions = fs.readdirSync(root).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) candidates.push(path.join(root, v, 'bin'));
  }
  return candidates.find((d) => ['pg_ctl', 'initdb', 'postgres', 'psql'].every((b) => fs.existsSync(path.join(d, b))));
}

export async function startCluster(opts: { log: (msg: string) => void }): Promise<PgCluster> {
  const bin = findPgBin();
  if (!bin) {
    throw new Error(
      'PostgreSQL server binaries (initdb, pg_ctl, postgres, psql) not found on PATH or under /usr/lib/postgresql/*/bin. ' +
        'Install them (Debian: apt-get install postgresql; .ci/run does this) and run the bench again.',
    );
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-bench-pg.'));
  const asRoot = process.getuid?.() === 0;
  // initdb refuses to run as root: as root the cluster belongs to the postgres user.
  const run = (cmd: string, args: string[], input?: string) => {
    const [c, a] = asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
    return execFileSync(c, a, { cwd: tmp, encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
  };
  if (asRoot) {
    if (spawnSync('id', ['postgres']).status !== 0) {
      execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
    }
    execFileSync('chown', ['postgres:', tmp]);
  }
  const data = path.join(tmp, 'data');
  const port = await freePort();
  const version = execFileSync(path.join(bin, 'postgres'), ['--version'], { encoding: 'utf8' }).trim();
  try {
    run(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--encoding=UTF8', '--locale=C', '--auth-local=trust', '--auth-host=scram-sha-256']);
    // Durable defaults (fsync and synchronous_commit on), as a real deployment runs; only the memory
    // and connection limits are raised so neither server is starved by a 128 MB default.
    const settings = [
      '-c listen_addresses=127.0.0.1',
      `-p ${port}`,
      `-c unix_socket_directories=${tmp}`,
      '-c max_connections=300',
      '-c shared_buffers=256MB',
      '-c work_mem=16MB',
      '-c maintenance_work_mem=128MB',
      '-c max_wal_size=4GB',
      '-c checkpoint_timeout=15min',
    ].join(' ');
    run(path.join(bin, 'pg_ctl'), ['-D', data, '-l', path.join(tmp, 'postgres.log'), '-w', '-t', '60', 'start', '-o', settings]);
  } catch (err) {
    const logFile = path.join(tmp, 'postgres.log');
    const detail = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : String((err as { stderr?: string }).stderr ?? err);
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(`could not start a throwaway Postgres cluster: ${detail.trim().split('\n').slice(-5).join(' | ')}`);
  }
  const psql = (db: string, sqlText: string) =>
    run(path.join(bin, 'psql'), ['-h', tmp, '-p', String(port), '-U', 'postgres', '-d', db, '-v', 'ON_ERROR_STOP=1', '-qAt', '-c', sqlText]);
  psql('postgres', `CREATE ROLE ${ROLE} LOGIN PASSWORD '${PASSWORD}'`);
  opts.log(`postgres: ${version} on 127.0.0.1:${port} (data in ${data})`);
  let stopped = false;
  return {
    version,
    port,
    createDatabase(name) {
      psql('postgres', `CREATE DATABASE ${name} OWNER ${ROLE}`);
      return `postgresql://${ROLE}:${PASSWORD}@127.0.0.1:${port}/${name}`;
    },
    psql,
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        run(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
      } catch {
        // already gone
      }
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}
