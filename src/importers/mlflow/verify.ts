import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { rows } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { proxiedKeyOf } from '../../domain/artifacts-location.js';
import { metricHistoryPage } from '../../domain/metric-history.js';
import type { MlflowSource } from './source.js';

export interface VerifyRow {
  what: string;
  source: string;
  cairn: string;
}

type Point = { step: number | string | bigint; timestamp: number | string | bigint; value: number | string };
export const pointLine = (p: Point) => `${Number(p.step)},${Number(p.timestamp)},${Number(p.value)}`;
export const digest = (lines: string[]) => createHash('sha256').update(lines.sort().join('\n')).digest('hex').slice(0, 16);

/** A checker that counts every comparison and keeps the ones that differ. */
export function checker() {
  const differences: VerifyRow[] = [];
  let checked = 0;
  return {
    check(what: string, a: unknown, b: unknown) {
      checked++;
      if (String(a) !== String(b)) differences.push({ what, source: String(a), cairn: String(b) });
    },
    result: () => ({ checked, differences }),
  };
}

/**
 * Compares the source with Cairn: runs per experiment, params and tags per run, each metric's point
 * count and a checksum of its points, each artifact's size; returns only the rows that differ.
 */
export async function verifyMlflowImport(deps: Deps, src: MlflowSource): Promise<{ checked: number; differences: VerifyRow[] }> {
  const { check, result } = checker();
  for await (const exp of src.experiments()) {
    const dest = await rows<{ experiment_id: number | string }>(deps.db, sql`select experiment_id from experiments where name = ${exp.name}`);
    check(`experiment '${exp.name}' exists`, true, dest.length > 0);
    if (!dest.length) continue;
    let runs = 0;
    for await (const run of src.runs(exp.experiment_id)) {
      runs++;
      const id = run.info.run_id;
      const found = await rows<{ start_time: unknown; end_time: unknown; status: string; artifact_uri: string; n_params: unknown; n_tags: unknown }>(
        deps.db,
        sql`select start_time, end_time, status, artifact_uri,
                   (select count(*) from params p where p.run_id = r.run_id) as n_params,
                   (select count(*) from run_tags t where t.run_id = r.run_id) as n_tags
            from runs r where run_id = ${id}`,
      );
      check(`run ${id} exists`, true, found.length > 0);
      if (!found.length) continue;
      const r = found[0];
      check(`run ${id} start/end/status`, `${run.info.start_time ?? ''}/${run.info.end_time ?? ''}/${run.info.status}`, `${r.start_time ?? ''}/${r.end_time ?? ''}/${r.status}`);
      check(`run ${id} params`, run.data.params?.length ?? 0, r.n_params);
      check(`run ${id} tags`, run.data.tags?.length ?? 0, r.n_tags);
      for (const m of run.data.metrics ?? []) {
        const srcLines: string[] = [];
        for await (const page of src.metricHistory(run.info, m.key)) srcLines.push(...page.map(pointLine));
        const destLines: string[] = [];
        for (let after: { s: number; t: number; v: number } | undefined, page; (page = await metricHistoryPage(deps.db, id, m.key, 10_000, after)).length; ) {
          destLines.push(...page.map(pointLine));
          const last = page[page.length - 1];
          after = { s: Number(last.step), t: Number(last.timestamp), v: Number(last.value) };
          if (page.length < 10_000) break;
        }
        check(`run ${id} metric '${m.key}' points`, srcLines.length, destLines.length);
        check(`run ${id} metric '${m.key}' checksum`, digest(srcLines), digest(destLines));
      }
      const root = proxiedKeyOf(r.artifact_uri);
      for await (const f of src.artifactFiles(run.info)) {
        const size = root === undefined ? -1 : await deps.blobs.head(`${root}/${f.path}`).then((h) => h.size, () => -1);
        check(`run ${id} artifact '${f.path}' size`, f.file_size ?? '', size < 0 ? 'missing' : size);
      }
    }
    for await (const lm of src.loggedModels(exp.experiment_id)) {
      const found = await rows<{ artifact_location: string }>(deps.db, sql`select artifact_location from logged_models where model_id = ${lm.model_id}`);
      check(`logged model ${lm.model_id} exists`, true, found.length > 0);
      if (!found.length) continue;
      const root = proxiedKeyOf(found[0].artifact_location);
      for await (const f of src.loggedModelFiles(lm)) {
        const size = root === undefined ? -1 : await deps.blobs.head(`${root}/${f.path}`).then((h) => h.size, () => -1);
        check(`logged model ${lm.model_id} artifact '${f.path}' size`, f.file_size ?? '', size < 0 ? 'missing' : size);
      }
    }
    const destRuns = await rows<{ n: unknown }>(deps.db, sql`select count(*) as n from runs where experiment_id = ${Number(dest[0].experiment_id)}`);
    check(`experiment '${exp.name}' runs`, runs, destRuns[0].n);
  }
  for await (const m of src.registeredModels()) {
    const versions = await src.versions(m);
    const dest = await rows<{ n: unknown }>(
      deps.db,
      sql`select count(*) as n from model_versions v join registered_models r on r.id = v.registered_model_id where r.name = ${m.name} and not v.deleted`,
    );
    check(`model '${m.name}' versions`, versions.length, dest[0].n);
  }
  return result();
}
