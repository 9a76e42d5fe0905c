// Exponential moving average as TensorBoard and W&B draw it: debiased, so the first points are not
// pulled towards zero, and gaps (null) are carried over rather than smoothed into.
export function ema(ys: (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return ys;
  const w = Math.min(weight, 0.999);
  let last = 0;
  let n = 0;
  return ys.map((y) => {
    if (y === null || !Number.isFinite(y)) return y;
    last = last * w + (1 - w) * y;
    n++;
    return last / (1 - Math.pow(w, n));
  });
}
