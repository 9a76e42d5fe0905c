import { createHash } from 'node:crypto';
import { SOURCE_MODEL_TAG, SOURCE_RUN_TAG } from './export.js';
import type { MlflowSource, SrcLoggedModel, SrcRun, SrcRunInfo } from './source.js';

export interface VerifyRow {
  what: string;
  source: string;
  destination: string;
}

type Point = { step: number | string | bigint; timestamp: number | string | bigint; value: number | string };
const pointLine = (p: Point) => `${Number(p.step)},${Number(p.timestamp)},${Number(p.value)}`;
const digest = (lines: string[]) => createHash('sha256').update(lines.sort().join('\n')).digest('hex').slice(0, 16);

async function history(src: MlflowSource, run: SrcRunInfo, key: string): Promise<string[]> {
  const lines: string[] = [];
  for await (const page of src.metricHistory(run, key)) lines.push(...page.map(pointLine));
  return lines;
}

async function fileSizes(files: AsyncIterable<{ path: string; file_size?: number }>): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for await (const f of files) out.set(f.path, Number(f.file_size ?? -1));
  return out;
}

/**
 * Compares a move's source with its destination, both read through the same MlflowSource calls
 * (an import's destination is Cairn read through its own API, served in-process; an export's is
 * the destination server's REST API), so one comparison serves every source kind and direction:
 * runs per experiment, each run's times and status, params and tags, each metric's point count and
 * a checksum of its points, artifact sizes, logged models with their status and files, and each
 * model's and prompt's number of versions. Runs and logged models are matched by the tag an export
 * leaves on them, else by id (an import keeps ids). Returns only the rows that differ.
 */
export async function verifyMove(src: MlflowSource, dst: MlflowSource): Promise<{ checked: number; differences: VerifyRow[] }> {
  const differences: VerifyRow[] = [];
  let checked = 0;
  const check = (what: string, a: unknown, b: unknown) => {
    checked++;
    if (String(a) !== String(b)) differences.push({ what, source: String(a), destination: String(b) });
  };
  const dstExperiments = new Map<string, string>();
  for await (const e of dst.experiments()) dstExperiments.set(e.name, e.experiment_id);
  for await (const exp of src.experiments()) {
    const destId = dstExperiments.get(exp.name);
    check(`experiment '${exp.name}' exists`, true, destId !== undefined);
    if (destId === undefined) continue;
    const dstRuns = new Map<string, SrcRun>();
    for await (const r of dst.runs(destId)) dstRuns.set(r.data.tags?.find((t) => t.key === SOURCE_RUN_TAG)?.value ?? r.info.run_id, r);
    let runs = 0;
    for await (const run of src.runs(exp.experiment_id)) {
      runs++;
      const id = run.info.run_id;
      const d = dstRuns.get(id);
      check(`run ${id} exists`, true, d !== undefined);
      if (!d) continue;
      check(`run ${id} start/end/status`, `${run.info.start_time ?? ''}/${run.info.end_time ?? ''}/${run.info.status}`, `${d.info.start_time ?? ''}/${d.info.end_time ?? ''}/${d.info.status}`);
      check(`run ${id} params`, run.data.params?.length ?? 0, d.data.params?.length ?? 0);
      check(`run ${id} tags`, run.data.tags?.length ?? 0, (d.data.tags ?? []).filter((t) => t.key !== SOURCE_RUN_TAG).length);
      for (const m of run.data.metrics ?? []) {
        const [a, b] = [await history(src, run.info, m.key), await history(dst, d.info, m.key)];
        check(`run ${id} metric '${m.key}' points`, a.length, b.length);
        check(`run ${id} metric '${m.key}' checksum`, digest(a), digest(b));
      }
      const have = await fileSizes(dst.artifactFiles(d.info));
      for await (const f of src.artifactFiles(run.info)) check(`run ${id} artifact '${f.path}' size`, f.file_size ?? '', have.get(f.path) ?? 'missing');
    }
    check(`experiment '${exp.name}' runs`, runs, dstRuns.size);
    const dstModels = new Map<string, SrcLoggedModel>();
    for await (const m of dst.loggedModels(destId)) dstModels.set(m.tags?.find((t) => t.key === SOURCE_MODEL_TAG)?.value ?? m.model_id, m);
    for await (const lm of src.loggedModels(exp.experiment_id)) {
      const d = dstModels.get(lm.model_id);
      check(`logged model ${lm.model_id} exists`, true, d !== undefined);
      if (!d) continue;
      check(`logged model ${lm.model_id} status`, lm.status, d.status);
      const have = await fileSizes(dst.loggedModelFiles(d));
      for await (const f of src.loggedModelFiles(lm)) check(`logged model ${lm.model_id} artifact '${f.path}' size`, f.file_size ?? '', have.get(f.path) ?? 'missing');
    }
  }
  for await (const m of src.registeredModels()) check(`model '${m.name}' versions`, (await src.versions(m)).length, (await dst.versions(m)).length);
  return { checked, differences };
}
