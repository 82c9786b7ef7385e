import type { Queryable } from '../readmodel/db.ts';
import type { EventEnvelope } from '../shared/envelope.ts';
import { fieldsOf } from './fields.ts';

export const name = 'users';
export const eventTypes = ['UserRegistered'] as const;

/** read_users. No credentials: UserRegistered carries none (the hash is its own item in the auth table). */
export async function apply(db: Queryable, event: EventEnvelope): Promise<void> {
  if (event.event_type !== 'UserRegistered') return;
  const f = fieldsOf(event);
  await db.query(
    `INSERT INTO read_users (user_id, email, name, role, registered_at, version)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (user_id) DO UPDATE
       SET email = EXCLUDED.email, name = EXCLUDED.name, role = EXCLUDED.role,
           registered_at = EXCLUDED.registered_at, version = EXCLUDED.version
       WHERE read_users.version < EXCLUDED.version`,
    [f.str('user_id'), f.str('email'), f.str('name'), f.str('role'), f.time('registered_at'), event.version],
  );
}
