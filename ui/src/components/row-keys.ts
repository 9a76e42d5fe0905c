import type { KeyboardEvent } from 'react';

/**
 * Keyboard navigation in a plain table's body: ↑/↓ (or j/k) move the focus between the rows' first
 * links, Home/End jump to the ends; Enter follows the focused link as any link does. Put it on
 * the <tbody>'s onKeyDown. Keys typed into an input are left alone.
 */
export function rowKeys(e: KeyboardEvent<HTMLTableSectionElement>) {
  const links = [...e.currentTarget.querySelectorAll<HTMLTableRowElement>(':scope > tr')]
    .map((tr) => tr.querySelector<HTMLAnchorElement>('a[href]'))
    .filter((a): a is HTMLAnchorElement => !!a);
  const at = links.findIndex((a) => a.closest('tr')?.contains(document.activeElement));
  const to = { ArrowDown: at + 1, j: at + 1, ArrowUp: at - 1, k: at - 1, Home: 0, End: links.length - 1 }[e.key];
  if (to === undefined || at < 0 || (e.target as HTMLElement).tagName === 'INPUT' || (e.target as HTMLElement).tagName === 'TEXTAREA') return;
  e.preventDefault();
  links[Math.max(0, Math.min(links.length - 1, to))]?.focus();
}
