import { sql } from 'drizzle-orm';
import { rows, type Orm } from '../../src/db/connect.js';
import { textArray } from '../../src/lib/pg-array.js';

// traces.tags_json and traces.metadata_json (migrations 0034-0036) must equal what the trace's
// key-value rows give, whoever wrote them: the triggers, or a writer that vouched for its own text
// (OTLP). The expected text is written here independently of the code under test.

/** The text a trace's key-value rows must be kept as: one compact JSON object, keys in byte order. */
export function expectedText(pairs: Array<[string, string]>): string | null {
  if (!pairs.length) return null;
  const sorted = [...pairs].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return `{${sorted.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
}

/** The traces (all, or those named) whose stored text differs from what their rows must give (should be none). */
export async function staleTraceText(orm: Orm, traceIds?: string[]): Promise<string[]> {
  const only = (column: string) => (traceIds ? sql` WHERE ${sql.raw(column)} = ANY(${textArray(traceIds)}::text[])` : sql``);
  const traces = await rows<{ trace_id: string; tags_json: string | null; metadata_json: string | null }>(
    orm,
    sql`SELECT trace_id, tags_json, metadata_json FROM traces${only('trace_id')}`,
  );
  const pairs = async (table: string) => {
    const found = await rows<{ trace_id: string; key: string; value: string }>(orm, sql`SELECT trace_id, key, value FROM ${sql.raw(table)}${only('trace_id')}`);
    const by = new Map<string, Array<[string, string]>>();
    // The artifact location is the row's own column, never part of the tags' text.
    for (const r of found) if (!(table === 'trace_tags' && r.key === 'mlflow.artifactLocation')) by.set(r.trace_id, [...(by.get(r.trace_id) ?? []), [r.key, r.value]]);
    return by;
  };
  const [tags, metadata] = [await pairs('trace_tags'), await pairs('trace_metadata')];
  return traces
    .filter((t) => t.tags_json !== expectedText(tags.get(t.trace_id) ?? []) || t.metadata_json !== expectedText(metadata.get(t.trace_id) ?? []))
    .map((t) => t.trace_id);
}
