import { countRunFiles, downloadUrl, listRunFiles, mimetypeOf, type RunFileRow } from '../../domain/wandb/run-file-list.js';
import { isoTime } from '../../domain/wandb/run-filters.js';
import { storageId, type WandbRunRow } from '../../domain/wandb/run-store.js';
import type { GqlContext } from './resolvers.js';

// Run.fileCount / Run.files and the File type, as wandb/apis/public/files.py queries them. The
// run was reached through Query.project, which already checked experiment:read.

interface RunFileObj {
  run: WandbRunRow;
  file: RunFileRow;
}

/** An artifact's file or manifest (artifact-resolvers.ts), which resolves its own URLs. */
export interface ArtifactFileObj {
  fileId: string;
  name: string;
  size: number;
  md5: string | null;
  digest?: string | null;
  storagePath?: string | null;
  uploadUrl: () => Promise<string> | null;
  directUrl: () => Promise<string>;
}

type FileObj = RunFileObj | ArtifactFileObj;
const isArtifactFile = (f: FileObj): f is ArtifactFileObj => 'fileId' in f;

type Args = Record<string, unknown>;
const str = (v: unknown) => (typeof v === 'string' ? v : null);
const b64 = (s: string) => Buffer.from(s).toString('base64');

export const runFileResolvers = {
  Run: {
    fileCount: ({ row }: { row: WandbRunRow }, _a: Args, ctx: GqlContext) => countRunFiles(ctx.deps, row),
    files: async ({ row }: { row: WandbRunRow }, args: Args, ctx: GqlContext) => {
      const page = await listRunFiles(ctx.deps, row, {
        names: Array.isArray(args.names) ? (args.names as (string | null)[]) : null,
        pattern: str(args.pattern),
        after: str(args.after),
        first: typeof args.first === 'number' ? args.first : null,
      });
      const edges = page.files.map((file) => ({ node: { run: row, file } satisfies RunFileObj, cursor: file.path }));
      const endCursor = edges.at(-1)?.cursor ?? null;
      return { edges, pageInfo: { startCursor: edges[0]?.cursor ?? null, endCursor, hasNextPage: page.hasNextPage, hasPreviousPage: false } };
    },
  },
  File: {
    id: (f: FileObj) => (isArtifactFile(f) ? f.fileId : b64(`File:${storageId(f.run.run_id)}:${f.file.path}`)),
    name: (f: FileObj) => (isArtifactFile(f) ? f.name : f.file.path),
    displayName: (f: FileObj) => (isArtifactFile(f) ? f.name : f.file.path),
    storagePath: (f: FileObj) => (isArtifactFile(f) ? (f.storagePath ?? null) : f.file.path),
    digest: (f: FileObj) => (isArtifactFile(f) ? (f.digest ?? f.md5) : f.file.md5),
    url: (f: FileObj, _a: Args, ctx: GqlContext) => (isArtifactFile(f) ? f.directUrl() : downloadUrl(ctx.deps, f.run, f.file.path, ctx.baseUrl)),
    directUrl: (f: FileObj, _a: Args, ctx: GqlContext) => (isArtifactFile(f) ? f.directUrl() : downloadUrl(ctx.deps, f.run, f.file.path, ctx.baseUrl)),
    sizeBytes: (f: FileObj) => (isArtifactFile(f) ? f.size : f.file.size),
    mimetype: (f: FileObj) => mimetypeOf(isArtifactFile(f) ? f.name : f.file.path),
    updatedAt: (f: FileObj) => (isArtifactFile(f) ? null : isoTime(f.file.updated_at)),
    md5: (f: FileObj) => (isArtifactFile(f) ? f.md5 : f.file.md5),
    uploadUrl: (f: FileObj) => (isArtifactFile(f) ? f.uploadUrl() : null),
    uploadHeaders: () => [],
  },
};
