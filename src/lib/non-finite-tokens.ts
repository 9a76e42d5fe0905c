const TOKENS = ['-Infinity', 'Infinity', 'NaN'] as const;

/**
 * Swaps each bare NaN / Infinity / -Infinity outside JSON strings for `replace(token)`, so text in
 * that dialect can go through JSON.parse. What stands inside strings is copied unchanged.
 */
export function replaceNonFiniteTokens(text: string, replace: (token: string) => string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      out += ch;
      if (ch === '\\') out += text[++i] ?? '';
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') {
      inString = true;
      out += ch;
      continue;
    }
    const token = TOKENS.find((t) => text.startsWith(t, i));
    if (token) {
      out += replace(token);
      i += token.length - 1;
    } else out += ch;
  }
  return out;
}
