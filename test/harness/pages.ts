/**
 * Every item of a paged search: calls `page(token)` from no token on, following each answer's next
 * token until there is none. Fails past `maxPages`, so a token that never ends is an error, not a hang.
 */
export async function followPages<T>(page: (token: string | undefined) => Promise<{ items: T[]; token?: string }>, maxPages: number): Promise<T[]> {
  const all: T[] = [];
  let token: string | undefined;
  for (let i = 0; i < maxPages; i++) {
    const got = await page(token);
    all.push(...got.items);
    if (!got.token) return all;
    token = got.token;
  }
  throw new Error('too many pages');
}
