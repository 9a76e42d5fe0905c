import type { ReactNode } from 'react';
import { useTheme } from './theme';
import { href } from '../router';

const NAV = [
  { label: 'Experiments', href: href('/experiments'), match: /^\/(experiments|runs|compare|$)/ },
  { label: 'Models', href: href('/models'), match: /^\/(models|logged-models)/ },
  { label: 'Prompts', href: href('/prompts'), match: /^\/prompts/ },
  { label: 'Teams', href: href('/teams'), match: /^\/teams/ },
];

export function Shell({ path, children }: { path: string; children: ReactNode }) {
  const [theme, toggle] = useTheme();
  return (
    <div className="app">
      <header className="topbar">
        <a className="logo" href={href('/experiments')} aria-label="Cairn home">
          <svg viewBox="0 0 32 32" width="22" height="22" aria-hidden>
            <ellipse cx="16" cy="24" rx="10" ry="3.6" fill="var(--accent)" />
            <ellipse cx="16" cy="17" rx="7.5" ry="3.2" fill="var(--accent-2)" />
            <ellipse cx="16" cy="10.5" rx="5" ry="2.8" fill="var(--fg)" />
          </svg>
          <span>Cairn</span>
        </a>
        <nav className="nav" aria-label="Main">
          {NAV.map((n) => (
            <a key={n.label} href={n.href} className={n.match.test(path) ? 'active' : undefined} aria-current={n.match.test(path) ? 'page' : undefined}>
              {n.label}
            </a>
          ))}
        </nav>
        <div className="topbar-right">
          <button className="btn btn-ghost theme-toggle" onClick={toggle} aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`} title="Toggle theme">
            {theme === 'dark' ? '☀' : '☾'}
          </button>
        </div>
      </header>
      <main className="main">{children}</main>
    </div>
  );
}

export function PageHeader({ title, crumbs, actions }: { title: ReactNode; crumbs?: { label: string; href?: string }[]; actions?: ReactNode }) {
  return (
    <div className="page-header">
      <div>
        {crumbs && crumbs.length > 0 && (
          <nav className="crumbs" aria-label="Breadcrumb">
            {crumbs.map((c, i) => (
              <span key={i}>
                {c.href ? <a href={c.href}>{c.label}</a> : c.label}
                <span className="crumb-sep">/</span>
              </span>
            ))}
          </nav>
        )}
        <h1 className="page-title">{title}</h1>
      </div>
      {actions && <div className="page-actions">{actions}</div>}
    </div>
  );
}
