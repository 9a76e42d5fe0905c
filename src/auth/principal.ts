/** Who is calling. With auth off every caller is the `open` principal, allowed everything. */
export type Principal =
  | { kind: 'open' }
  | { kind: 'anonymous' }
  | { kind: 'user'; id: number; username: string; isAdmin: boolean; via: 'password' | 'key' };

export type UserPrincipal = Extract<Principal, { kind: 'user' }>;

export const OPEN: Principal = { kind: 'open' };
export const ANONYMOUS: Principal = { kind: 'anonymous' };

/** Allowed everything: auth off, or an admin. */
export const isUnrestricted = (p: Principal) => p.kind === 'open' || (p.kind === 'user' && p.isAdmin);
