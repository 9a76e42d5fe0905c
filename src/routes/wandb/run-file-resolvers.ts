import { countRunFiles, downloadUrl, listRunFiles, mimetypeOf, type RunFileRow } from '../../domain/wandb/run-file-list.js';
import { isoTime } from '../../domain/wandb/run-filters.js';
import { storageId, type WandbRunRow } from '../../domain/wandb/run-store.js';
import type { GqlContext } from './resolvers.js';

// Run.fileCount / Run.files and the File type, as wandb/apis/public/files.py queries them. The
// run was reached through Query.project, which already checked experiment:read.

interface FileObj {
  run: WandbRunRow;
  file: RunFileRow;
}

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
      const edges = page.files.map((file) => ({ node: { run: row, file } satisfies FileObj, cursor: file.path }));
      const endCursor = edges.at(-1)?.cursor ?? null;
      return { edges, pageInfo: { startCursor: edges[0]?.cursor ?? null, endCursor, hasNextPage: page.hasNextPage, hasPreviousPage: false } };
    },
  },
  File: {
    id: ({ run, file }: FileObj) => b64(`File:${storageId(run.run_id)}:${file.path}`),
    name: ({ file }: FileObj) => file.path,
    url: ({ run, file }: FileObj, _a: Args, ctx: GqlContext) => downloadUrl(ctx.deps, run, file.path, ctx.baseUrl),
    directUrl: ({ run, file }: FileObj, _a: Args, ctx: GqlContext) => downloadUrl(ctx.deps, run, file.path, ctx.baseUrl),
    sizeBytes: ({ file }: FileObj) => file.size,
    mimetype: ({ file }: FileObj) => mimetypeOf(file.path),
    updatedAt: ({ file }: FileObj) => isoTime(file.updated_at),
    md5: ({ file }: FileObj) => file.md5,
  },
};
