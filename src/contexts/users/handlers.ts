import { AppError, conflict, validationError } from '../../platform/shared/errors.ts';
import { ensure } from '../../platform/shared/validate.ts';
import type { EventStore } from '../../platform/eventstore/types.ts';
import {
  emailClaimDecider,
  emailClaimStreamId,
  legacyEmailClaimStreamId,
  normaliseEmail,
  registrationChecks,
  userDecider,
  type UserRole,
} from './index.ts';
import type { AppContext } from '../../kernel/context.ts';
import type { Executor } from '../../kernel/executor.ts';
import type { CommandHandler } from '../../kernel/handler.ts';
import { createPasswordHasher, type PasswordHasher } from './password.ts';
import { streamWrite, type Streams } from '../../kernel/streams.ts';

export interface RegisteredUser {
  user_id: string;
  email: string;
  name: string;
  role: UserRole;
  version: number;
}

const PASSWORD_MIN = 8;
const PASSWORD_MAX = 128;

const invalidCredentials = () => new AppError('unauthorized', 'invalid_credentials', 'invalid email or password');

/**
 * Registration and login. Credentials are decided from the event store (the email claim stream, the user stream
 * and the credential item), never from a read model, so a user can log in the moment registration answered.
 * The password hash is not an event: it is written into its own item in the registration's transaction.
 */
/** A registration ready to decide: checked, its password hashed once (scrypt is slow on purpose) and its id drawn. */
export interface Registration {
  email: string;
  name: string;
  role: UserRole;
  user_id: string;
  password_hash: string;
}

export function createUserHandlers(
  ctx: AppContext,
  deps: { store: Pick<EventStore, 'readCredential' | 'replaceCredential'>; streams: () => Streams; passwords?: PasswordHasher },
) {
  const passwords = deps.passwords ?? createPasswordHasher();

  /**
   * The claim of an email: the hashed stream, or, for accounts registered before it existed, the legacy stream
   * named by the address itself (read only; see legacyEmailClaimStreamId).
   */
  async function loadClaim(streams: Streams, email: string) {
    const current = await streams.emailClaim(emailClaimStreamId(email));
    if (current.state.status === 'claimed') return { current, legacy: undefined };
    return { current, legacy: await streams.emailClaim(legacyEmailClaimStreamId(email)) };
  }

  const register: CommandHandler<Registration, RegisteredUser> = async (streams, input) => {
    const email = normaliseEmail(input.email);
    const claim = await loadClaim(streams, email);
    const now = ctx.clock().toISOString();
    // Legacy claims are never written again, so one that is claimed belongs to someone else.
    if (claim.legacy?.state.status === 'claimed') throw conflict('email_taken', 'email is already registered');
    const claimEvents = emailClaimDecider.decide({ type: 'ClaimEmail', email, user_id: input.user_id }, claim.current.state);
    const user = await streams.user(input.user_id);
    const userEvents = userDecider.decide(
      { type: 'RegisterUser', user_id: input.user_id, email, name: input.name, role: input.role, now },
      user.state,
    );
    return {
      writes: [
        streamWrite(emailClaimStreamId(email), 'EmailClaim', claim.current.version, claimEvents),
        // A guard: the legacy claim must still be free when this commits (an older release may still be running).
        ...(claim.legacy ? [streamWrite(legacyEmailClaimStreamId(email), 'EmailClaim', claim.legacy.version, [])] : []),
        streamWrite(input.user_id, 'User', user.version, userEvents),
      ],
      credential: { user_id: input.user_id, password_hash: input.password_hash },
      result: { user_id: input.user_id, email, name: input.name.trim(), role: input.role, version: user.version + userEvents.length },
    };
  };

  const checkPassword = (password: unknown) => {
    if (typeof password !== 'string' || password.length < PASSWORD_MIN || password.length > PASSWORD_MAX) {
      throw validationError(`password must be ${PASSWORD_MIN}..${PASSWORD_MAX} characters`, [
        { field: 'password', message: `must be ${PASSWORD_MIN}..${PASSWORD_MAX} characters` },
      ]);
    }
  };

  /** Every field rule a registration can break without reading state, checked before any hashing. */
  const checkRegistration = (input: { email: unknown; password: unknown; name: unknown }) => {
    const errors = [...registrationChecks(input.email, input.name)];
    try {
      checkPassword(input.password);
    } catch (err) {
      errors.push(...((err as AppError).errors ?? []));
    }
    ensure(...errors);
  };

  return {
    passwords,
    checkRegistration,

    register,

    /** Checks a registration and hashes its password, once, before it is decided (and perhaps decided again). */
    async prepareRegistration(input: { email: string; password: string; name: string; role?: UserRole }): Promise<Registration> {
      checkRegistration(input);
      const password_hash = await passwords.hash(input.password);
      return { email: input.email, name: input.name, role: input.role ?? 'customer', user_id: ctx.newId(), password_hash };
    },

    /** Returns the user for valid credentials; the same error, after the same work, for unknown email and wrong password. */
    async authenticate(email: string, password: string): Promise<RegisteredUser> {
      if (typeof email !== 'string' || typeof password !== 'string') throw invalidCredentials();
      const streams = deps.streams();
      const claim = await loadClaim(streams, normaliseEmail(email));
      const claimed =
        claim.current.state.status === 'claimed'
          ? claim.current.state
          : claim.legacy?.state.status === 'claimed'
            ? claim.legacy.state
            : undefined;
      const credential = claimed ? await deps.store.readCredential(claimed.user_id) : undefined;
      if (!claimed || !credential) {
        await passwords.verifyNothing(password);
        throw invalidCredentials();
      }
      if (!(await passwords.verify(password, credential.password_hash))) throw invalidCredentials();
      const user = await streams.user(claimed.user_id);
      if (user.state.status !== 'registered') throw invalidCredentials();
      if (passwords.needsRehash(credential.password_hash)) {
        // Parameters were raised since this hash was made: store one of today's strength. Best effort: a lost
        // race or a failed write only means the next login tries again.
        await passwords
          .hash(password)
          .then((stronger) => deps.store.replaceCredential(claimed.user_id, credential.password_hash, stronger))
          .catch(() => {});
      }
      return { user_id: user.state.user_id, email: user.state.email, name: user.state.name, role: user.state.role, version: user.version };
    },

    async get(userId: string): Promise<RegisteredUser | undefined> {
      const user = await deps
        .streams()
        .user(userId)
        .catch((err: unknown) => {
          if (err instanceof AppError && err.kind === 'not_found') return undefined;
          throw err;
        });
      if (!user || user.state.status !== 'registered') return undefined;
      return { user_id: user.state.user_id, email: user.state.email, name: user.state.name, role: user.state.role, version: user.version };
    },

    /** Creates the admin account from configuration on first start; a no-op once its email is claimed. */
    async seedAdmin(email: string, password: string, executor: Pick<Executor, 'execute'>): Promise<boolean> {
      const claim = await loadClaim(deps.streams(), normaliseEmail(email));
      if (claim.current.state.status === 'claimed' || claim.legacy?.state.status === 'claimed') return false;
      const password_hash = await passwords.hash(password);
      const user_id = ctx.newId();
      try {
        await executor.execute(
          register,
          { email, name: 'Administrator', role: 'admin', user_id, password_hash },
          { metadata: { correlation_id: 'seed-admin' } },
        );
        return true;
      } catch (err) {
        // Another api instance seeded it first.
        if (err instanceof AppError && err.code === 'email_taken') return false;
        throw err;
      }
    },
  };
}

export type UserHandlers = ReturnType<typeof createUserHandlers>;
