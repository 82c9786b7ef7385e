import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { AppError } from '../../platform/shared/errors.ts';

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/**
 * OWASP Password Storage Cheat Sheet (scrypt): N=2^17, r=8, p=1. That is 128·N·r = 128 MiB of memory and ~300 ms
 * of one core per hash on the development machines, on purpose: it is what makes a stolen hash expensive to
 * guess. Stored hashes name their parameters, so older ones (N=2^14) still verify and are upgraded at login.
 */
export const OWASP_SCRYPT: ScryptParams = { N: 2 ** 17, r: 8, p: 1 };

const KEY_LENGTH = 32;
/** Parameters a stored hash may ask for; anything beyond is corrupt, not a reason to allocate gigabytes. */
const LIMITS = { N: 2 ** 20, r: 32, p: 16 };

/**
 * Node refuses a derivation whose memory (128·N·r plus 128·r·p) exceeds `maxmem` (default 32 MiB, too small for
 * the OWASP parameters): allow exactly what these parameters need, with room for the p blocks.
 */
const maxmemOf = ({ N, r, p }: ScryptParams) => 128 * r * (N + p + 2) + 1024 * 1024;

const derive = (password: string, salt: Buffer, params: ScryptParams) =>
  new Promise<Buffer>((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, { ...params, maxmem: maxmemOf(params) }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );

const parse = (stored: string): { params: ScryptParams; salt: Buffer; hash: Buffer } | undefined => {
  const [scheme, n, r, p, salt, hash, ...rest] = stored.split('$');
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  const ok =
    scheme === 'scrypt' &&
    rest.length === 0 &&
    salt &&
    hash &&
    Number.isSafeInteger(params.N) &&
    params.N >= 2 &&
    params.N <= LIMITS.N &&
    (params.N & (params.N - 1)) === 0 &&
    Number.isSafeInteger(params.r) &&
    params.r >= 1 &&
    params.r <= LIMITS.r &&
    Number.isSafeInteger(params.p) &&
    params.p >= 1 &&
    params.p <= LIMITS.p;
  return ok ? { params, salt: Buffer.from(salt, 'base64url'), hash: Buffer.from(hash, 'base64url') } : undefined;
};

export interface PasswordHasherOptions {
  params?: ScryptParams;
  /**
   * Hashes computed at once. scrypt runs on libuv's threadpool (4 threads by default), which DNS lookups and file
   * reads of the same process also need; two keep two threads free for them and use both cores of a small host.
   */
  concurrency?: number;
  /** Hashes waiting for a slot; beyond, the request is refused (503) instead of queueing without bound. */
  queue?: number;
  /** A waiting hash that does not start within this time is refused too (the client retries later). */
  maxWaitMs?: number;
}

const busy = () =>
  new AppError('unavailable', 'password_checks_busy', 'too many logins and registrations are being processed; retry in a moment', {
    extra: { retry_after: 1 },
  });

/**
 * scrypt behind a small semaphore. A flood of logins or registrations then costs at most `concurrency` threads
 * and `concurrency` × 128 MiB, answers the excess at once with 503 + Retry-After, and cannot starve the threadpool
 * the rest of the process uses. 503 rather than 429: it is the server's capacity that is exhausted, not one
 * client's allowance (that is the rate limiter's 429, which comes first).
 */
export function createPasswordHasher(opts: PasswordHasherOptions = {}) {
  const params = opts.params ?? OWASP_SCRYPT;
  const concurrency = opts.concurrency ?? 2;
  const queueMax = opts.queue ?? 32;
  const maxWaitMs = opts.maxWaitMs ?? 10_000;
  let running = 0;
  const waiting: Array<{ start: () => void; timer: NodeJS.Timeout }> = [];

  async function slot<T>(work: () => Promise<T>): Promise<T> {
    if (running >= concurrency) {
      if (waiting.length >= queueMax) throw busy();
      await new Promise<void>((resolve, reject) => {
        const entry = {
          start: () => {
            clearTimeout(entry.timer);
            resolve();
          },
          timer: setTimeout(() => {
            waiting.splice(waiting.indexOf(entry), 1);
            reject(busy());
          }, maxWaitMs),
        };
        waiting.push(entry);
      });
    } else {
      running++;
    }
    try {
      return await work();
    } finally {
      // The slot passes straight to the next waiter; `running` only drops when nobody waits.
      const next = waiting.shift();
      if (next) next.start();
      else running--;
    }
  }

  const hashWith = async (password: string, p: ScryptParams): Promise<string> => {
    const salt = randomBytes(16);
    const key = await derive(password, salt, p);
    return ['scrypt', p.N, p.r, p.p, salt.toString('base64url'), key.toString('base64url')].join('$');
  };

  // Verified against when an email is unknown, so that answer costs exactly what a real check costs.
  let dummy: Promise<string> | undefined;

  return {
    params,
    /** `scrypt$N$r$p$salt$hash` (base64url). */
    hash: (password: string): Promise<string> => slot(() => hashWith(password, params)),

    async verify(password: string, stored: string): Promise<boolean> {
      const parsed = parse(stored);
      if (!parsed) return false;
      const actual = await slot(() => derive(password, parsed.salt, parsed.params));
      return actual.length === parsed.hash.length && timingSafeEqual(actual, parsed.hash);
    },

    /** The work of a real verification, for an account that does not exist (no timing oracle). */
    async verifyNothing(password: string): Promise<void> {
      dummy ??= hashWith(randomBytes(16).toString('base64url'), params);
      const parsed = parse(await dummy)!;
      await slot(() => derive(password, parsed.salt, parsed.params));
    },

    /** True when a stored hash is weaker than the current parameters: rehash it after a successful login. */
    needsRehash(stored: string): boolean {
      const parsed = parse(stored);
      return !parsed || parsed.params.N < params.N || parsed.params.r < params.r || parsed.params.p < params.p;
    },

    /** For tests and metrics: hashes running and waiting. */
    load: () => ({ running, waiting: waiting.length }),
  };
}

export type PasswordHasher = ReturnType<typeof createPasswordHasher>;
