import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

// Passwords are stored as `scrypt$N$r$p$<salt b64>$<hash b64>`. scrypt with N=2^15 costs ~50 ms and
// 32 MiB per check: slow for a guesser with a stolen table, affordable once per (user, password)
// per process thanks to the cache below.
const N = 2 ** 15;
const R = 8;
const P = 1;
const KEY_LEN = 32;
const MAX_MEM = 64 * 1024 * 1024;

function derive(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, KEY_LEN, { N: n, r, p, maxmem: MAX_MEM }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await derive(password, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

async function checkHash(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [n, r, p] = parts.slice(1, 4).map(Number);
  if (![n, r, p].every(Number.isInteger) || n > 2 ** 20 || r > 32 || p > 16) return false;
  const expected = Buffer.from(parts[5], 'base64');
  const actual = await derive(password, Buffer.from(parts[4], 'base64'), n, r, p);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

// Every request carries the password (HTTP Basic), so a successful check is remembered. The cache
// key includes the stored hash: a password change or a deleted user (no stored hash to match) is
// seen by the next request on every process, with no invalidation to get wrong. Only successes are
// kept, as a digest, so the cache holds no password and cannot be filled by a guesser.
const CACHE_MAX = 10_000;
const verified = new Set<string>();

export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  if (!stored) return false;
  const digest = createHash('sha256').update(stored).update('\0').update(password).digest('base64');
  if (verified.has(digest)) return true;
  if (!(await checkHash(password, stored))) return false;
  if (verified.size >= CACHE_MAX) verified.clear();
  verified.add(digest);
  return true;
}
