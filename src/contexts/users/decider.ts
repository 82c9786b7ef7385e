import type { Decider } from '../../platform/shared/decider.ts';
import { conflict } from '../../platform/shared/errors.ts';
import type { Check } from '../../platform/shared/validate.ts';
import { ensure, id, nowMs, oneOf, singleLine, trimmed } from '../../platform/shared/validate.ts';
import type { UserEvent, UserRegisteredData, UserRole } from './events.ts';
import { USER_ROLES } from './events.ts';

export type UserCommand = {
  type: 'RegisterUser';
  user_id: string;
  email: string;
  name: string;
  role: UserRole;
  now: string;
};

export type UserState = { status: 'none' } | ({ status: 'registered' } & UserRegisteredData);

const EMAIL = /^[^\s@<>()[\]\\,;:"]{1,64}@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/;

/**
 * Trimmed and lower-cased: the form stored in events, the key of the email claim stream, and the key of the
 * login and registration rate limits (one normalisation everywhere, or a limit could be dodged by case).
 */
export const normaliseEmail = (email: string): string => email.trim().toLowerCase();

export const emailCheck = (field: string, value: unknown): Check => {
  if (typeof value !== 'string' || value.length > 254 || !EMAIL.test(value)) {
    return { field, message: 'must be a valid email address' };
  }
  return null;
};

export const USER_NAME_MAX = 100;

/** The registration's field rules, for checking before the (deliberately slow) password hash is computed. */
export const registrationChecks = (email: unknown, name: unknown): Check[] => [
  emailCheck('email', typeof email === 'string' ? normaliseEmail(email) : email),
  singleLine('name', trimmed(name), 1, USER_NAME_MAX),
];

export const userDecider: Decider<UserCommand, UserState, UserEvent> = {
  initialState: () => ({ status: 'none' }),

  decide: (command, state) => {
    switch (command.type) {
      case 'RegisterUser': {
        const email = typeof command.email === 'string' ? normaliseEmail(command.email) : command.email;
        const name = trimmed(command.name);
        ensure(
          id('user_id', command.user_id),
          emailCheck('email', email),
          singleLine('name', name, 1, USER_NAME_MAX),
          oneOf('role', command.role, USER_ROLES),
        );
        nowMs(command.now);
        if (state.status !== 'none') throw conflict('user_exists', `user ${state.user_id} is already registered`);
        return [
          {
            type: 'UserRegistered',
            data: {
              user_id: command.user_id,
              email,
              name,
              role: command.role,
              registered_at: command.now,
            },
          },
        ];
      }
    }
  },

  evolve: (state, event) => {
    switch (event.type) {
      case 'UserRegistered':
        return { status: 'registered', ...event.data };
    }
  },
};
