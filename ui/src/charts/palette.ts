// Run colours: distinct hues that read on both the dark and the light theme, assigned by position
// so the same run keeps its colour across the charts of one page.
export const PALETTE = ['#4f8ff7', '#f2704e', '#3fbf7f', '#c07cf0', '#f5b83d', '#2fc0c8', '#ec5f9c', '#9aa83a', '#8c8cf2', '#d9834a', '#5fb0e8', '#e05c5c'];

export const colorAt = (i: number) => PALETTE[i % PALETTE.length];

/** `#rrggbb` with an alpha, for bands and faint raw lines under a smoothed one. */
export function withAlpha(hex: string, alpha: number): string {
  const a = Math.round(Math.max(0, Math.min(1, alpha)) * 255)
    .toString(16)
    .padStart(2, '0');
  return `${hex}${a}`;
}
