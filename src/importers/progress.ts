import cliProgress from 'cli-progress';

/** A bar per phase (counts, rate, ETA) on a terminal; nothing at all when stderr is not a TTY. */
export interface Progress {
  phase(name: string, total: number): void;
  tick(n?: number): void;
  done(): void;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return { phase: () => {}, tick: () => {}, done: () => {} };
  let bar: cliProgress.SingleBar | undefined;
  let value = 0;
  let started = 0;
  const stop = () => {
    bar?.stop();
    bar = undefined;
  };
  return {
    phase(name, total) {
      stop();
      bar = new cliProgress.SingleBar(
        { stream, format: `${name.padEnd(30)} [{bar}] {value}/{total} {percentage}% | {rate}/s | ETA {eta_formatted}`, hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      value = 0;
      started = Date.now();
      bar.start(total, 0, { rate: '0' });
    },
    tick(n = 1) {
      if (!bar) return;
      value += n;
      bar.update(value, { rate: (value / Math.max((Date.now() - started) / 1000, 0.001)).toFixed(1) });
    },
    done: stop,
  };
}
