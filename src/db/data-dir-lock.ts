import fs from 'node:fs';

/**
 * The embedded database is one process's: a second server, `db migrate` or any other command
 * opening the same folder would write to it behind the first one's back, and writes through one of
 * them are lost. So the folder is locked by a file beside it holding the owner's PID, created
 * atomically; a lock whose process is gone (killed, crashed) is stale and taken over.
 */
export class DataDirLockedError extends Error {}

export interface DataDirLock {
  readonly file: string;
  release(): void;
}

export const lockFileFor = (dbDir: string) => `${dbDir.replace(/\/+$/, '')}.lock`;

export function lockDataDir(dbDir: string): DataDirLock {
  const file = lockFileFor(dbDir);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o644 });
      return holdLock(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = readHolder(file);
    if (holder !== undefined && holder !== process.pid && isAlive(holder)) {
      throw new DataDirLockedError(
        `the embedded database in ${dbDir} is in use by process ${holder} (lock file ${file}); stop that process first, ` +
          'or use a Postgres --backend-store-uri to run several processes on one store',
      );
    }
    // Stale: its process is gone (or is this very process, as after a container restart where
    // PIDs start over). Remove it, unless another process took it over meanwhile, and race for a
    // fresh one: the loser of that race sees the winner's PID.
    if (readHolder(file) === holder) fs.rmSync(file, { force: true });
  }
  throw new DataDirLockedError(`could not lock the embedded database in ${dbDir} (lock file ${file} keeps changing hands)`);
}

function readHolder(file: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function holdLock(file: string): DataDirLock {
  let held = true;
  // process.exit() skips async cleanup: drop the lock on any exit that runs JavaScript at all.
  const onExit = () => release();
  function release() {
    if (!held) return;
    held = false;
    process.removeListener('exit', onExit);
    // Only our own lock: never remove one that another process took over after ours went stale.
    if (readHolder(file) === process.pid) fs.rmSync(file, { force: true });
  }
  process.on('exit', onExit);
  return { file, release };
}
