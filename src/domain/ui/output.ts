import { sql } from 'drizzle-orm';
import { rows } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { MlflowError } from '../../errors.js';
import { requireRun, runFileLocation, type RunRecord } from './run-files.js';

export const OUTPUT_CHUNK_BYTES = 1024 * 1024;
const OUTPUT_FILE = 'output.log';

// wandb-core streams each console line as "<ISO time> <text>", stderr lines as "ERROR <ISO time> <text>";
// the output.log it uploads at the end has the bare text, which is what a console shows. The prefix is
// recognised with LIKE and cut at its space: a regular expression per line made a 100,000-line tail
// poll take seconds.
const STRIPPED_LINE = sql.raw(`substr(content, 1 + case
  when content like '____-__-__T__:__:__%' then position(' ' in content)
  when content like 'ERROR ____-__-__T__:__:__%' then 6 + position(' ' in substr(content, 7))
  else 0 end) || E'\\n'`);

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
  if (streamed) return { text: streamed.text, next_offset: streamed.next_offset, complete: finished && streamed.atEnd };
  const file = await fileOutput(deps, run, offset);
  return { text: file.text, next_offset: file.next, complete: finished && file.atEnd };
}

async function streamedOutput(deps: Deps, runId: string, offset: number): Promise<{ text: string; next_offset: number; atEnd: boolean } | undefined> {
  // Each line's end offset is a running sum over the lines before it; one row comes back: the total
  // (null when the run streamed no console line) and the lines that overlap [offset, offset + chunk).
  const [found] = await rows<{ total: number | string | null; lines: string | null }>(
    deps.db,
    sql`with c as (select line_no, t, sum(octet_length(t)) over (order by line_no) as end_off
                   from (select line_no, ${STRIPPED_LINE} as t from wandb_lines where run_id = ${runId} and stream = 'output') l)
        select (select max(end_off) from c) as total,
               (select json_agg(json_build_array(t, end_off::text) order by line_no) from c
                where end_off > ${offset} and end_off - octet_length(t) < ${offset + OUTPUT_CHUNK_BYTES})::text as lines`,
  );
  if (found.total === null) return undefined;
  const total = Number(found.total);
  const lines = found.lines ? (JSON.parse(found.lines) as [string, string][]) : [];
  if (!lines.length) return { text: '', next_offset: Math.min(offset, total), atEnd: offset >= total };
  const firstStart = Number(lines[0][1]) - Buffer.byteLength(lines[0][0]);
  const bytes = Buffer.from(lines.map((l) => l[0]).join(''));
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
