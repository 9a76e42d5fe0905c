import { useEffect, useState } from 'react';

/** The design tokens a canvas needs (it cannot read CSS variables itself). */
export interface CanvasColors {
  fg: string;
  muted: string;
  faint: string;
  grid: string;
  bg: string;
  accent: string;
}

export function readCanvasColors(): CanvasColors {
  const s = getComputedStyle(document.documentElement);
  const v = (name: string, fallback: string) => s.getPropertyValue(name).trim() || fallback;
  return {
    fg: v('--fg', '#e6ebf3'),
    muted: v('--fg-muted', '#97a3b6'),
    faint: v('--fg-faint', '#6b778b'),
    grid: v('--border', '#243044'),
    bg: v('--bg-elev', '#111723'),
    accent: v('--accent', '#38bdf8'),
  };
}

/** The current theme's canvas colours, updated when the theme attribute changes. */
export function useCanvasColors(): CanvasColors {
  const [colors, setColors] = useState(readCanvasColors);
  useEffect(() => {
    const obs = new MutationObserver(() => setColors(readCanvasColors()));
    obs.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
    return () => obs.disconnect();
  }, []);
  return colors;
}
