import net from 'node:net';

// The Host and Origin allow-lists of `mlflow server` (--allowed-hosts, --cors-allowed-origins), with
// the same shell-style patterns and defaults, so a deployment's settings carry over unchanged.

/** Loopback names on any port, and the private address ranges (RFC 1918, RFC 4193), as MLflow allows by default. */
export function defaultAllowedHosts(): string[] {
  const loopback = ['localhost', '127.0.0.1', '[::1]', '0.0.0.0'];
  const privateRanges = ['192.168.*', '10.*'];
  for (let i = 16; i < 32; i++) privateRanges.push(`172.${i}.*`);
  // `[[]` is a literal `[` in a shell pattern.
  const anyPort = loopback.map((h) => `${h.replace('[', '[[]')}:*`);
  return [...loopback, ...anyPort, ...privateRanges, ...PRIVATE_IPV6];
}

const PRIVATE_IPV6 = ['fc00:*', 'fd00:*'];
// A pattern such as `10.*` or `192.168.*:5000` covers IP addresses only, not a name like `10.evil.example`.
const IPV4_PREFIX_GLOB = /^(?:[0-9]+\.)+\*(?:\.(?:[0-9]+|\*))*(?::[0-9*]+)?$/;

/** A shell-style pattern (`*`, `?`, `[...]`, `[!...]`) as an anchored, case-insensitive regex. */
export function globToRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '*') out += '.*';
    else if (ch === '?') out += '.';
    else if (ch === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) {
        out += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, close);
      const negate = body.startsWith('!');
      if (negate) body = body.slice(1);
      out += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = close;
    } else out += ch.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(`^${out}$`, 'is');
}

const hostOnly = (host: string) => host.replace(/:\d*$/, '');

/** One compiled allow-list entry: exact (case-insensitive) or a pattern. */
function hostMatcher(pattern: string): (host: string) => boolean {
  if (!pattern.includes('*') && !pattern.includes('?') && !pattern.includes('[')) {
    const exact = pattern.toLowerCase();
    return (host) => host.toLowerCase() === exact;
  }
  const re = globToRegExp(pattern);
  if (IPV4_PREFIX_GLOB.test(pattern)) return (host) => re.test(host) && net.isIPv4(hostOnly(host));
  if (PRIVATE_IPV6.includes(pattern)) return (host) => re.test(host) && net.isIPv6(host) && !host.includes('%');
  return (host) => re.test(host);
}

/** Whether a Host header is on the list; `*` on the list allows any. An absent Host never is. */
export function hostAllowList(patterns: string[]): (host: string | undefined) => boolean {
  if (patterns.includes('*')) return () => true;
  const matchers = patterns.map(hostMatcher);
  return (host) => !!host && matchers.some((m) => m(host));
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/** A page served from this machine (http or https, any port): MLflow always lets those in. */
export function isLoopbackOrigin(origin: string): boolean {
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && LOOPBACK_NAMES.has(url.hostname);
  } catch {
    return false;
  }
}

/** Whether an Origin is on the configured list (exact, or a pattern with `*`). */
export function originAllowList(patterns: string[]): (origin: string) => boolean {
  const matchers = patterns.map((p) => (p.includes('*') ? globToRegExp(p) : p));
  return (origin) => matchers.some((m) => (typeof m === 'string' ? m === origin : m.test(origin)));
}
