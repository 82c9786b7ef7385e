/**
 * Email uniqueness. DynamoDB has no unique constraint on an attribute, and the command side must never ask a
 * read model (it lags, and two racing registrations would both see "free"). So each normalised email owns a
 * tiny stream, `user-email:<sha-256 of the email>` (see claimKey), whose first event EmailClaimed is appended in the SAME TransactWriteItems
 * as UserRegistered, with attribute_not_exists(version) on both items: the claim item is the lock. Two racing
 * registrations cannot both write version 1 of the claim stream; the loser's whole transaction fails, it
 * reloads, and this decider then refuses it with 'email_taken'.
 */
import { claimKey } from '../../platform/shared/claims.ts';
import type { Decider } from '../../platform/shared/decider.ts';
import { conflict } from '../../platform/shared/errors.ts';
import { ensure, id } from '../../platform/shared/validate.ts';
import { emailCheck, normaliseEmail } from './decider.ts';
import type { EmailClaimEvent } from './events.ts';

export const emailClaimStreamId = (email: string): string => `user-email:${claimKey(normaliseEmail(email))}`;

/**
 * The claim stream id of releases before issue #9 (the address itself). Never written any more; read so that the
 * accounts they registered keep their email (no second registration, login still works). Always contains an
 * `@`, which the hashed form never does, so the two can never name the same stream.
 */
export const legacyEmailClaimStreamId = (email: string): string => `user-email:${normaliseEmail(email)}`;

export type EmailClaimCommand = { type: 'ClaimEmail'; email: string; user_id: string };

export type EmailClaimState = { status: 'free' } | { status: 'claimed'; email: string; user_id: string };

export const emailClaimDecider: Decider<EmailClaimCommand, EmailClaimState, EmailClaimEvent> = {
  initialState: () => ({ status: 'free' }),

  decide: (command, state) => {
    const email = typeof command.email === 'string' ? normaliseEmail(command.email) : command.email;
    ensure(emailCheck('email', email), id('user_id', command.user_id));
    if (state.status === 'claimed') {
      // A retry by the same registration is not a conflict: nothing new to record.
      if (state.user_id === command.user_id) return [];
      throw conflict('email_taken', 'email is already registered');
    }
    return [{ type: 'EmailClaimed', data: { email, user_id: command.user_id } }];
  },

  evolve: (_state, event) => ({ status: 'claimed', email: event.data.email, user_id: event.data.user_id }),
};
