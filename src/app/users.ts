import { loadAggregate } from '../eventstore/aggregate.ts';
import { AppError, validationError } from '../shared/errors.ts';
import { emailClaimDecider, emailClaimStreamId, normaliseEmail, userDecider, type UserRole } from '../users/index.ts';
import type { AppContext } from './context.ts';
import type { Plan } from './executor.ts';
import { hashPassword, verifyPassword } from './password.ts';

export interface RegisteredUser {
  user_id: string;
  email: string;
  name: string;
  role: UserRole;
  version: number;
}

const PASSWORD_MIN = 8;
const PASSWORD_MAX = 128;

/**
 * Registration and login. Credentials are decided from the event store (the email claim stream, then the
 * user stream), never from a read model, so a user can log in the moment registration answered.
 */
export function createUserService(ctx: AppContext) {
  const loadClaim = (email: string) => loadAggregate(ctx.store, emailClaimStreamId(email), emailClaimDecider);
  const loadUser = (userId: string) => loadAggregate(ctx.store, userId, userDecider);

  async function planRegistration(input: { email: string; password: string; name: string; role: UserRole; user_id: string; password_hash: string }): Promise<Plan<RegisteredUser>> {
    const email = normaliseEmail(input.email);
    const claim = await loadClaim(email);
    const now = ctx.clock().toISOString();
    const claimEvents = emailClaimDecider.decide({ type: 'ClaimEmail', email, user_id: input.user_id }, claim.state);
    const user = await loadUser(input.user_id);
    const userEvents = userDecider.decide(
      { type: 'RegisterUser', user_id: input.user_id, email, name: input.name, role: input.role, password_hash: input.password_hash, now },
      user.state,
    );
    return {
      writes: [
        { aggregate_id: emailClaimStreamId(email), aggregate_type: 'EmailClaim', expected_version: claim.version, events: claimEvents.map((e) => ({ event_type: e.type, data: { ...e.data } })) },
        { aggregate_id: input.user_id, aggregate_type: 'User', expected_version: user.version, events: userEvents.map((e) => ({ event_type: e.type, data: { ...e.data } })) },
      ],
      status: 201,
      body: { user_id: input.user_id, email, name: input.name.trim(), role: input.role, version: user.version + userEvents.length },
    };
  }

  const checkPassword = (password: unknown) => {
    if (typeof password !== 'string' || password.length < PASSWORD_MIN || password.length > PASSWORD_MAX) {
      throw validationError(`password must be ${PASSWORD_MIN}..${PASSWORD_MAX} characters`, [{ field: 'password', message: `must be ${PASSWORD_MIN}..${PASSWORD_MAX} characters` }]);
    }
  };

  return {
    /** Plans a registration; the hash is computed once, outside the retry loop (scrypt is slow on purpose). */
    async register(input: { email: string; password: string; name: string; role?: UserRole }) {
      checkPassword(input.password);
      const password_hash = await hashPassword(input.password);
      const user_id = ctx.newId();
      return () => planRegistration({ ...input, role: input.role ?? 'customer', user_id, password_hash });
    },

    /** Returns the user for valid credentials; the same error for unknown email and wrong password. */
    async authenticate(email: string, password: string): Promise<RegisteredUser> {
      const invalid = new AppError('unauthorized', 'invalid_credentials', 'invalid email or password');
      if (typeof email !== 'string' || typeof password !== 'string') throw invalid;
      const claim = await loadClaim(normaliseEmail(email));
      if (claim.state.status !== 'claimed') {
        await hashPassword(password); // same work as a real check: no timing oracle for registered emails
        throw invalid;
      }
      const user = await loadUser(claim.state.user_id);
      if (user.state.status !== 'registered' || !(await verifyPassword(password, user.state.password_hash))) throw invalid;
      return { user_id: user.state.user_id, email: user.state.email, name: user.state.name, role: user.state.role, version: user.version };
    },

    async get(userId: string): Promise<RegisteredUser | undefined> {
      const user = await loadUser(userId);
      if (user.state.status !== 'registered') return undefined;
      return { user_id: user.state.user_id, email: user.state.email, name: user.state.name, role: user.state.role, version: user.version };
    },

    /** Creates the admin account from configuration on first start; a no-op once its email is claimed. */
    async seedAdmin(email: string, password: string, run: (plan: () => Promise<Plan<RegisteredUser>>) => Promise<unknown>): Promise<boolean> {
      const claim = await loadClaim(normaliseEmail(email));
      if (claim.state.status === 'claimed') return false;
      const password_hash = await hashPassword(password);
      const user_id = ctx.newId();
      try {
        await run(() => planRegistration({ email, password, name: 'Administrator', role: 'admin', user_id, password_hash }));
        return true;
      } catch (err) {
        // Another api instance seeded it first.
        if (err instanceof AppError && err.code === 'email_taken') return false;
        throw err;
      }
    },
  };
}

export type UserService = ReturnType<typeof createUserService>;
