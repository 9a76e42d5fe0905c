import { sql } from 'drizzle-orm';
import { rows } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { MlflowError } from '../../errors.js';
import { requireRun, runFileLocation, type RunRecord } from './run-files.js';

export const OUTPUT_CHUNK_BYTES = 1024 * 1024;
const OUTPUT_FILE = 'output.log';

// wandb-core streams each console line as "<ISO time> <text>", stderr lines as "ERROR <ISO time> <text>";
// the output.log it uploads at the end has the bare text, which is what a console shows.
const LINE_PREFIX = '^(ERROR )?[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?Z? ';

export interface OutputChunk {
  text: string;
  next_offset: number;
  complete: boolean;
}

/**
 * Console output from a byte offset, at most 1 MiB: a W&B run's streamed console lines (live while it
 * runs), else an `output.log` at the root of the run's artifacts (the file W&B uploads, or one an
 * MLflow run logged). Offsets count UTF-8 bytes of the text served, so a tail passes back next_offset.
 */
export async function runOutput(deps: Deps, input: { run_id: string; offset?: number }): Promise<OutputChunk> {
  const run = await requireRun(deps.db, input.run_id);
  const offset = input.offset ?? 0;
  const finished = run.status !== 'RUNNING' && run.status !== 'SCHEDULED';
  const streamed = await streamedOutput(deps, run.run_id, offset);
  if (streamed) return { ...streamed, complete: finished && streamed.atEnd };
  const file = await fileOutput(deps, run, offset);
  return { text: file.text, next_offset: file.next, complete: finished && file.atEnd };
}

async function streamedOutput(deps: Deps, runId: string, offset: number): Promise<{ text: string; next_offset: number; atEnd: boolean } | undefined> {
  // Each line's end offset is a running sum over the lines before it; only the lines that overlap
  // [offset, offset + chunk) come back.
  const found = await rows<{ t: string; end_off: number | string; total: number | string }>(
    deps.db,
    sql`with l as (select line_no, regexp_replace(content, ${LINE_PREFIX}, '') || E'\n' as t
                   from wandb_lines where run_id = ${runId} and stream = 'output'),
             c as (select line_no, t, sum(octet_length(t)) over (order by line_no) as end_off, sum(octet_length(t)) over () as total from l)
        select t, end_off, total from c
        where end_off > ${offset} and end_off - octet_length(t) < ${offset + OUTPUT_CHUNK_BYTES}
        order by line_no`,
  );
  if (!found.length) {
    const any = await rows(deps.db, sql`select 1 from wandb_lines where run_id = ${runId} and stream = 'output' limit 1`);
    if (!any.length) return undefined;
    const total = await rows<{ total: number | string }>(
      deps.db,
      sql`select coalesce(sum(octet_length(regexp_replace(content, ${LINE_PREFIX}, '') || E'\n')), 0) as total from wandb_lines where run_id = ${runId} and stream = 'output'`,
    );
    const size = Number(total[0].total);
    return { text: '', next_offset: Math.min(offset, size), atEnd: offset >= size };
  }
  const total = Number(found[0].total);
  const firstStart = Number(found[0].end_off) - Buffer.byteLength(found[0].t);
  const bytes = Buffer.from(found.map((r) => r.t).join(''));
  const { text, used } = utf8Slice(bytes, offset - firstStart, OUTPUT_CHUNK_BYTES);
  const next = offset + used;
  return { text, next_offset: next, atEnd: next >= total };
}

async function fileOutput(deps: Deps, run: RunRecord, offset: number): Promise<{ text: string; next: number; atEnd: boolean }> {
  const where = runFileLocation(deps, run, OUTPUT_FILE);
  if (!where) return { text: '', next: 0, atEnd: true };
  let opened;
  try {
    opened = await where.store.get(where.key);
  } catch (err) {
    if (err instanceof MlflowError && err.code === 'RESOURCE_DOES_NOT_EXIST') return { text: '', next: 0, atEnd: true };
    throw err;
  }
  if (offset >= opened.size) {
    opened.body.destroy();
    return { text: '', next: Math.min(offset, opened.size), atEnd: true };
  }
  // Read only up to the chunk's end (plus a few bytes to finish a character), then stop the stream.
  const chunks: Buffer[] = [];
  let seen = 0;
  const stop = offset + OUTPUT_CHUNK_BYTES + 4;
  for await (const chunk of opened.body) {
    const buf = chunk as Buffer;
    const from = Math.max(0, offset - seen);
    const to = Math.min(buf.length, stop - seen);
    if (to > from) chunks.push(buf.subarray(from, to));
    seen += buf.length;
    if (seen >= stop) break;
  }
  opened.body.destroy();
  const { text, used } = utf8Slice(Buffer.concat(chunks), 0, OUTPUT_CHUNK_BYTES);
  return { text, next: offset + used, atEnd: offset + used >= opened.size };
}

/**
 * Up to `max` bytes of `bytes` from `start`, ending on a line break when one falls in the window
 * (else on a character boundary), so no character is split between two chunks.
 */
function utf8Slice(bytes: Buffer, start: number, max: number): { text: string; used: number } {
  let end = Math.min(bytes.length, start + max);
  if (end < bytes.length) {
    const newline = bytes.lastIndexOf(0x0a, end - 1);
    if (newline >= start) end = newline + 1;
    else while (end > start && (bytes[end] & 0xc0) === 0x80) end--;
  }
  return { text: bytes.subarray(start, end).toString('utf8'), used: end - start };
}
