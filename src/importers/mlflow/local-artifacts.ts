import { createReadStream } from 'node:fs';
import { opendir, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { SourceError, type SrcFile } from './source.js';

/**
 * Reads artifacts that a SQL database or a file store points at on this machine: `file:` URIs and
 * plain paths, and `mlflow-artifacts:` URIs (a tracking server's proxied artifacts) below the folder
 * that server was started with (`--artifacts-destination`, given here as `--source-artifacts`).
 */
export class LocalArtifacts {
  constructor(
    private readonly proxiedRoot: string | undefined,
    private readonly base: string,
  ) {}

  folderOf(uri: string): string {
    if (uri.startsWith('mlflow-artifacts:')) {
      if (!this.proxiedRoot) {
        throw new SourceError(`${uri} is served by a tracking server: give --source-artifacts DIR (that server's --artifacts-destination)`);
      }
      // mlflow-artifacts:/path and mlflow-artifacts://host:port/path name the same path below the root.
      const path = uri.replace(/^mlflow-artifacts:(\/\/[^/]*)?/, '');
      return join(this.proxiedRoot, path);
    }
    if (uri.startsWith('file://')) return fileURLToPath(uri);
    if (uri.startsWith('file:')) return resolve(this.base, uri.slice('file:'.length));
    if (/^[a-z][\w+.-]*:\/\//i.test(uri)) throw new SourceError(`${uri}: only local artifacts (file:, paths, mlflow-artifacts: with --source-artifacts) are read`);
    return isAbsolute(uri) ? uri : resolve(this.base, uri);
  }

  /** Every file below the URI, depth first, with paths relative to it; a missing folder has none. */
  async *files(uri: string): AsyncGenerator<SrcFile> {
    const root = this.folderOf(uri);
    const walk = async function* (dir: string): AsyncGenerator<SrcFile> {
      let handle;
      try {
        handle = await opendir(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return;
        throw new SourceError(`cannot read ${dir}: ${(err as Error).message}`);
      }
      const entries = [];
      for await (const e of handle) entries.push(e);
      entries.sort((a, b) => a.name.localeCompare(b.name));
      for (const e of entries) {
        const full = join(dir, e.name);
        if (e.isDirectory()) yield* walk(full);
        else if (e.isFile()) yield { path: relative(root, full).split(sep).join('/'), is_dir: false, file_size: (await stat(full)).size };
      }
    };
    yield* walk(root);
  }

  async open(uri: string, path: string): Promise<Readable> {
    const root = this.folderOf(uri);
    const full = resolve(root, path);
    if (!full.startsWith(root + sep)) throw new SourceError(`artifact path ${path} leaves ${root}`);
    return createReadStream(full);
  }
}
