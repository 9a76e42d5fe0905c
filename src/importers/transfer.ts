import type { Progress } from './progress.js';
import type { MlflowSource, SrcExperiment, SrcFile, SrcModel } from './mlflow/source.js';

/** What an import or export moved (or, with --dry-run, would move), and what it stepped over and why. */
export interface TransferSummary {
  experiments: number;
  runs: number;
  metricPoints: number;
  artifacts: number;
  artifactBytes: number;
  loggedModels: number;
  models: number;
  versions: number;
  skipped: { what: string; why: string }[];
}

export const emptySummary = (): TransferSummary => ({ experiments: 0, runs: 0, metricPoints: 0, artifacts: 0, artifactBytes: 0, loggedModels: 0, models: 0, versions: 0, skipped: [] });

export function countFile(summary: TransferSummary, f: SrcFile): void {
  summary.artifacts++;
  summary.artifactBytes += Number(f.file_size ?? 0);
}

/**
 * One item's step: a failure `skippable` accepts (bad data in the source, a refusal by the
 * destination) is listed as skipped and the move goes on with the next item; anything else stops it.
 */
export async function attempt(summary: TransferSummary, skippable: (err: unknown) => boolean, what: string, step: () => Promise<unknown>): Promise<void> {
  try {
    await step();
  } catch (err) {
    if (!skippable(err)) throw err;
    summary.skipped.push({ what, why: err instanceof Error ? err.message : String(err) });
  }
}

/**
 * The phases every move runs, each with its progress bar: the experiments (with their runs and
 * logged models), then the registered models and prompts (after the runs their versions point at).
 * The source's own skips (a corrupt file it stepped over) go into the summary too.
 */
export async function runPhases(
  src: MlflowSource,
  summary: TransferSummary,
  opts: { progress: Progress; skippable: (err: unknown) => boolean },
  steps: { experiment(e: SrcExperiment): Promise<unknown>; model(m: SrcModel): Promise<unknown> },
): Promise<void> {
  src.skip = (what, why) => summary.skipped.push({ what, why });
  const phase = async <T>(name: string, items: AsyncIterable<T>, what: (item: T) => string, step: (item: T) => Promise<unknown>) => {
    const list: T[] = [];
    for await (const item of items) list.push(item);
    opts.progress.phase(name, list.length);
    for (const item of list) {
      await attempt(summary, opts.skippable, what(item), () => step(item));
      opts.progress.tick();
    }
  };
  await phase('experiments', src.experiments(), (e) => `experiment '${e.name}'`, steps.experiment);
  await phase('registered models and prompts', src.registeredModels(), (m) => `registered model '${m.name}'`, steps.model);
}

/** A model version's source below a moved run's or logged model's artifacts, pointed at the copy. */
export function repointArtifacts(source: string, artifactUris: Map<string, string>): string {
  for (const [from, to] of artifactUris) {
    if (source === from || source.startsWith(`${from}/`)) return to + source.slice(from.length);
  }
  return source;
}

/** An iterator that is reading its next item before it is asked for it (see readAhead). */
export interface ReadAhead<T> extends AsyncIterable<T> {
  /** Lets go of the source (its open file or generator) when the items are not all consumed. */
  close(): void;
}

/**
 * The items of `source`, the first read from now on and each next one while the caller works on the
 * one before: a move then reads its source (another process: an MLflow server, a database) while it
 * writes into Cairn, instead of taking turns. At most one item is held ahead, so memory stays one page
 * whatever the size; a failed read is thrown where that item is consumed. Iterate it once.
 */
export function readAhead<T>(source: AsyncIterable<T>): ReadAhead<T> {
  const it = source[Symbol.asyncIterator]();
  const pull = () => {
    const p = it.next();
    p.catch(() => {}); // thrown when consumed; unconsumed (closed early) it is not an unhandled rejection
    return p;
  };
  let next = pull();
  let done = false;
  return {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        const r = await next;
        if (r.done) {
          done = true;
          return;
        }
        next = pull();
        yield r.value;
      }
    },
    close() {
      // Not awaited: a generator's return() waits for the read in flight, which need not be waited for.
      if (!done) it.return?.(undefined)?.catch(() => {});
      done = true;
    },
  };
}
