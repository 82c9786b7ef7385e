import { claimKey } from '../../platform/shared/claims.ts';
import type { Decider } from '../../platform/shared/decider.ts';
import { conflict } from '../../platform/shared/errors.ts';
import { ensure, id, nowMs, singleLine, trimmed } from '../../platform/shared/validate.ts';
import type { CategoryCreatedData, CategoryEvent, CategoryNameClaimEvent } from './events.ts';
import { CATEGORY_NAME_MAX } from './events.ts';

export type CategoryCommand = { type: 'CreateCategory'; category_id: string; name: string; now: string };

export type CategoryState = { status: 'none' } | ({ status: 'created' } & CategoryCreatedData);

const nameCheck = (name: unknown) => singleLine('name', name, 1, CATEGORY_NAME_MAX);

export const categoryDecider: Decider<CategoryCommand, CategoryState, CategoryEvent> = {
  initialState: () => ({ status: 'none' }),

  decide: (command, state) => {
    switch (command.type) {
      case 'CreateCategory': {
        const name = trimmed(command.name);
        ensure(id('category_id', command.category_id), nameCheck(name));
        nowMs(command.now);
        if (state.status !== 'none') throw conflict('category_exists', `category ${state.category_id} already exists`);
        return [{ type: 'CategoryCreated', data: { category_id: command.category_id, name, created_at: command.now } }];
      }
    }
  },

  evolve: (_state, event) => {
    switch (event.type) {
      case 'CategoryCreated':
        return { status: 'created', ...event.data };
    }
  },
};

/*
 * Category names are unique, case- and width-insensitively ("T-Shirts" = "ｔ－ｓｈｉｒｔｓ"). As for user emails
 * (src/contexts/users/email-claim.ts), DynamoDB has no unique constraint and the read model must not decide, so each
 * folded name owns a stream `category-name:<sha-256 of the key>` (claimKey: whatever the name, a safe id) whose CategoryNameClaimed is appended in the same transaction
 * as CategoryCreated; attribute_not_exists(version) on the claim item is the lock. The claim stream also lets
 * the application resolve a category NAME to its id with a consistent read (e.g. `POST /products {category}`).
 */
export const categoryNameKey = (name: string): string => name.trim().normalize('NFKC').toLowerCase();
export const categoryNameClaimStreamId = (name: string): string => `category-name:${claimKey(categoryNameKey(name))}`;
/**
 * The claim stream id of releases before issue #9 (the folded name itself, any characters). Never written any
 * more; read so that categories created then keep their name (no duplicate, still found by name).
 */
export const legacyCategoryNameClaimStreamId = (name: string): string => `category-name:${categoryNameKey(name)}`;

export type CategoryNameClaimCommand = { type: 'ClaimCategoryName'; name: string; category_id: string };

export type CategoryNameClaimState = { status: 'free' } | { status: 'claimed'; name: string; category_id: string };

export const categoryNameClaimDecider: Decider<CategoryNameClaimCommand, CategoryNameClaimState, CategoryNameClaimEvent> = {
  initialState: () => ({ status: 'free' }),

  decide: (command, state) => {
    const name = trimmed(command.name);
    ensure(id('category_id', command.category_id), nameCheck(name));
    if (state.status === 'claimed') {
      if (state.category_id === command.category_id) return [];
      throw conflict('category_name_taken', `a category named ${JSON.stringify(state.name)} already exists`, {
        category_id: state.category_id,
      });
    }
    return [{ type: 'CategoryNameClaimed', data: { name, category_id: command.category_id } }];
  },

  evolve: (_state, event) => ({ status: 'claimed', name: event.data.name, category_id: event.data.category_id }),
};
