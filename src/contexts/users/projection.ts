import type { KnownEvent } from '../../kernel/contracts.ts';
import type { TableProjection } from '../../kernel/projection.ts';

/** read_users. No credentials: UserRegistered carries none (the hash is its own item in the auth table). */
export interface UserRow {
  user_id: string;
  email: string;
  name: string;
  role: string;
  registered_at: string;
  version: number;
}

export const users: TableProjection<UserRow> = {
  name: 'users',
  table: 'read_users',
  key: 'user_id',
  columns: ['user_id', 'email', 'name', 'role', 'registered_at', 'version'],
  eventTypes: ['UserRegistered'],
  keyOf: (e: KnownEvent) => (e.event_type === 'UserRegistered' ? e.data.user_id : undefined),
  evolve(row, e) {
    if (e.event_type !== 'UserRegistered') return row;
    const { user_id, email, name, role, registered_at } = e.data;
    return { user_id, email, name, role, registered_at, version: e.version };
  },
};
