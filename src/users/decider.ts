import type { Decider } from '../shared/decider.ts';
import { conflict } from '../shared/errors.ts';
import type { Check } from '../shared/validate.ts';
import { ensure, id, nowMs, oneOf, singleLine, trimmed } from '../shared/validate.ts';
import type { UserEvent, UserRegisteredData, UserRole } from './events.ts';
import { USER_ROLES } from './events.ts';

export type UserCommand = {
  type: 'RegisterUser';
  user_id: string;
  email: string;
  name: string;
  role: UserRole;
  /** Already hashed by the application (hashing needs node:crypto and is slow on purpose). */
  password_hash: string;
  now: string;
};

export type UserState = { status: 'none' } | ({ status: 'registered' } & UserRegisteredData);

const EMAIL =
  /^[^\s@<>()[\]\\,;:"]{1,64}@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/;

/** Trimmed and lower-cased: the form stored in events and used as the key of the email claim stream. */
export const normaliseEmail = (email: string): string => email.trim().toLowerCase();

export const emailCheck = (field: string, value: unknown): Check => {
  if (typeof value !== 'string' || value.length > 254 || !EMAIL.test(value)) {
    return { field, message: 'must be a valid email address' };
  }
  return null;
};

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
          singleLine('name', name, 1, 100),
          oneOf('role', command.role, USER_ROLES),
          singleLine('password_hash', command.password_hash, 1, 1024),
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
              password_hash: command.password_hash,
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
