import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { invalidParam, MlflowError, notFound } from '../errors.js';
import { RESERVED_NAME_PREFIX, RESERVED_ROOT_SEGMENT } from './keys.js';
import { storeCall, storeUnavailable, type BlobBody, type BlobEntry, type BlobObject, type BlobStore, type ByteRange } from './store.js';

const isInside = (root: string, p: string) => p === root || p.startsWith(root + path.sep);

/**
 * A local folder. Uploads land in `<root>/.cairn-tmp/` and are renamed into place when complete,
 * so a reader never sees half a file and a failed upload leaves nothing behind. Bytes written into a
 * folder the upload has just made land beside their target instead (`.cairn-tmp-<uuid>`, hidden from
 * listings; see put). Every resolved path, symlinks followed, must stay inside the root.
 */
export class FsBlobStore implements BlobStore {
  readonly root: string;
  private realRoot?: string;
  private tmpDirMade = false;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  get location(): string {
    return this.root;
  }

  // Small files are written by the thousand (OTLP spans, one traces.json a trace), and on a busy host
  // each file-system call costs: put spends six or seven, none it can do without.
  async put(key: string, body: BlobBody): Promise<void> {
    const target = await this.resolve(key);
    const tmpDir = path.join(await this.ensureRoot(), RESERVED_ROOT_SEGMENT);
    const made = await this.io(() => fs.mkdir(path.dirname(target), { recursive: true }), key);
    // A folder mkdir has just made holds no file yet: the check starts there, one call instead of two
    // (checking first took three more calls for a new trace's folders, docs/bench.md).
    try {
      await this.checkInside(made === undefined ? target : path.dirname(target));
    } catch (err) {
      // Refused (MlflowError): through a symlinked folder inside the store, mkdir made folders
      // outside it, which go again. Any other failure leaves them: they are inside the store.
      if (made !== undefined && err instanceof MlflowError) await fs.rm(made, { recursive: true, force: true }).catch(() => {});
      throw err;
    }
    // Bytes into a folder mkdir has just made (a new trace's traces.json) are written beside their
    // target and renamed within that folder: every file created in the shared temporary folder, and
    // renamed out of it, takes that one folder's lock, and a new trace's file written that way took
    // two to three times the wall time of one written beside it, 16 at once (docs/bench.md). A stream (an upload that can run long, or be abandoned) still goes through the
    // shared folder, where its progress is visible and a failure is cleaned up in one place. Only a
    // crash between the open and the rename leaves the file behind, in the new folder, out of listings.
    const beside = made !== undefined && body instanceof Uint8Array;
    const tmp = beside ? path.join(path.dirname(target), RESERVED_NAME_PREFIX + randomUUID()) : path.join(tmpDir, randomUUID());
    try {
      const handle = await this.io(() => (beside ? fs.open(tmp, 'wx') : this.openTemporary(tmp, tmpDir)), key);
      if (body instanceof Uint8Array) {
        await this.io(async () => {
          try {
            await handle.writeFile(body);
          } finally {
            await handle.close();
          }
        }, key);
      } else await this.io(() => pipeline(body, handle.createWriteStream()), key);
      await this.io(() => fs.rename(tmp, target), key);
    } catch (err) {
      // Only a failed upload leaves its temporary file (a renamed one is gone: no call spent on it).
      await fs.rm(tmp, { force: true }).catch(() => {});
      throw err;
    }
  }

  /** Opens a new temporary file; the temporary folder is made on the first upload, or when it has gone. */
  private async openTemporary(tmp: string, tmpDir: string): Promise<fs.FileHandle> {
    if (!this.tmpDirMade) {
      await fs.mkdir(tmpDir, { recursive: true });
      this.tmpDirMade = true;
    }
    try {
      return await fs.open(tmp, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await fs.mkdir(tmpDir, { recursive: true });
      return await fs.open(tmp, 'wx');
    }
  }

  async get(key: string, range?: ByteRange): Promise<BlobObject> {
    const file = await this.resolve(key);
    await this.checkInside(file);
    const handle = await this.io(() => fs.open(file, 'r'), key);
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw notFound(`Artifact '${key}' is a folder, not a file`);
      // 1 MiB reads: a tenth of the system calls and chunks of the 64 KiB default for large files.
      if (range) return { body: handle.createReadStream({ highWaterMark: 1024 * 1024, start: range.start, end: range.end }), size: range.end - range.start + 1 };
      return { body: handle.createReadStream({ highWaterMark: 1024 * 1024 }), size: stat.size };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async head(key: string): Promise<{ size: number }> {
    const file = await this.resolve(key);
    await this.checkInside(file);
    const stat = await this.io(() => fs.stat(file), key);
    if (!stat.isFile()) throw notFound(`Artifact '${key}' is a folder, not a file`);
    return { size: stat.size };
  }

  async list(dirKey: string): Promise<BlobEntry[]> {
    const dir = await this.resolve(dirKey);
    await this.checkInside(dir);
    let dirents;
    try {
      dirents = await fs.readdir(dir, { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return [];
      throw this.failure(err, dirKey);
    }
    const entries: BlobEntry[] = [];
    for (const d of dirents) {
      if ((!dirKey && d.name === RESERVED_ROOT_SEGMENT) || d.name.startsWith(RESERVED_NAME_PREFIX)) continue;
      // Symlinks and devices are not artifacts the API wrote; leave them out.
      if (d.isDirectory()) entries.push({ name: d.name, isDir: true });
      else if (d.isFile()) {
        const stat = await fs.stat(path.join(dir, d.name)).catch(() => undefined);
        if (stat) entries.push({ name: d.name, isDir: false, size: stat.size });
      }
    }
    return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async delete(key: string): Promise<void> {
    if (!key) throw invalidParam('Invalid path: refusing to delete the whole artifact store');
    const target = await this.resolve(key);
    await this.checkInside(target);
    await this.io(() => fs.rm(target, { recursive: true, force: true }), key);
  }

  async close(): Promise<void> {}

  private async ensureRoot(): Promise<string> {
    if (!this.realRoot) {
      await this.io(() => fs.mkdir(this.root, { recursive: true }), '');
      this.realRoot = await fs.realpath(this.root);
    }
    return this.realRoot;
  }

  private async resolve(key: string): Promise<string> {
    await this.ensureRoot();
    const full = key ? path.join(this.root, ...key.split('/')) : this.root;
    if (!isInside(this.root, full)) throw invalidParam('Invalid path: resolved path is outside the artifact directory');
    return full;
  }

  /** The deepest existing ancestor of p, symlinks resolved, must lie inside the real root. */
  private async checkInside(p: string): Promise<void> {
    const realRoot = await this.ensureRoot();
    for (let current = p; ; ) {
      try {
        const real = await fs.realpath(current);
        if (!isInside(realRoot, real)) throw invalidParam('Invalid path: resolved path is outside the artifact directory');
        return;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
        const parent = path.dirname(current);
        if (parent === current) return;
        current = parent;
      }
    }
  }

  private io<T>(op: () => Promise<T>, key: string): Promise<T> {
    return storeCall(op, (err) => this.failure(err, key));
  }

  private failure(err: unknown, key: string): Error {
    if (err instanceof MlflowError) return err;
    const code = (err as NodeJS.ErrnoException).code;
    switch (code) {
      case 'ENOENT':
        return notFound(`Artifact '${key}' does not exist`);
      case 'EISDIR':
        return invalidParam(`Artifact path refers to a directory, not a file: '${key}'`);
      case 'ENOTDIR':
      case 'EEXIST':
        return invalidParam(`Invalid path: a parent of '${key}' is a file`);
      case 'ENAMETOOLONG':
        return invalidParam(`Invalid path: '${key.slice(0, 100)}' is too long`);
      case 'ERR_STREAM_PREMATURE_CLOSE':
      case 'ECONNRESET':
      case 'ECONNABORTED':
        return invalidParam(`Upload of '${key}' was interrupted before the body was complete`);
      default:
        if (code === 'ENOSPC' || code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'EIO' || code === 'EDQUOT') {
          return storeUnavailable(this.root, `${code}: ${(err as Error).message}`);
        }
        return err as Error;
    }
  }
}
