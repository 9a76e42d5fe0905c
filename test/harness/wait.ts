/**
 * Polls `probe` until it returns something truthy, and returns that. Tests wait for the state they
 * need instead of sleeping a fixed time; the deadline only keeps a broken run from hanging, and its
 * failure message names what never happened and the last value seen.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T> | T, { timeoutMs = 30_000, intervalMs = 25 } = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await probe();
    if (last) return last as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
