import { z } from 'zod';
import type { DataOf } from '../../platform/shared/contract.ts';
import { defineEvent, f } from '../../platform/shared/contract.ts';
import type { DomainEvent } from '../../platform/shared/decider.ts';

export const USER_ROLES = ['customer', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/**
 * No password hash: credentials are not events (docs/event-store.md). The hash is written in the same transaction into
 * its own item (AppendOptions.credential); events of older releases that carried one decode without it (unknown
 * keys are stripped).
 */
export const UserRegisteredV = defineEvent(
  'UserRegistered',
  z.object({
    user_id: f.text(),
    /** Normalised: trimmed, lower-case. */
    email: f.text(),
    name: f.str(),
    role: f.oneOf(USER_ROLES),
    registered_at: f.time(),
  }),
);
export type UserRegisteredData = DataOf<typeof UserRegisteredV>;
export type UserRegistered = DomainEvent<'UserRegistered', UserRegisteredData>;
export type UserEvent = UserRegistered;

export const EmailClaimedV = defineEvent('EmailClaimed', z.object({ email: f.text(), user_id: f.text() }));
export type EmailClaimedData = DataOf<typeof EmailClaimedV>;
export const USER_CONTRACTS = [UserRegisteredV, EmailClaimedV] as const;
export type EmailClaimed = DomainEvent<'EmailClaimed', EmailClaimedData>;
export type EmailClaimEvent = EmailClaimed;

/** Event type names; `satisfies` makes the compiler reject a missing or extra name. */
export const UserEventTypes = { UserRegistered: 'UserRegistered' } as const satisfies { [K in UserEvent['type']]: K };
export const EmailClaimEventTypes = { EmailClaimed: 'EmailClaimed' } as const satisfies {
  [K in EmailClaimEvent['type']]: K;
};
export const isUserEventType = (type: string): type is UserEvent['type'] => Object.hasOwn(UserEventTypes, type);
export const isEmailClaimEventType = (type: string): type is EmailClaimEvent['type'] => Object.hasOwn(EmailClaimEventTypes, type);
