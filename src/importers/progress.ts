/** One line per step on a terminal (rewritten in place); nothing when output is not a TTY. */
export interface Progress {
  step(what: string): void;
  done(): void;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return { step: () => {}, done: () => {} };
  let n = 0;
  const started = Date.now();
  return {
    step(what) {
      n++;
      const rate = (n / Math.max((Date.now() - started) / 1000, 0.001)).toFixed(1);
      stream.write(`\r\x1b[K${n} items (${rate}/s) ${what.slice(0, Math.max((stream.columns ?? 80) - 30, 10))}`);
    },
    done() {
      stream.write('\r\x1b[K');
    },
  };
}
