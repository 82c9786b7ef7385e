/**
 * Releases before the credential item (issue #9) stored the password hash inside the account's first event
 * (`UserRegistered.data.password_hash`). Such events still sit in existing data directories; events are
 * immutable history, but a secret that should never have been in one is not history. So:
 *
 * - every read path of both stores (readStream, scanAll, findUnpublished, append's answer) hands out the event
 *   without the field: it cannot reach Kafka (the sweeper republishes what findUnpublished returns), the
 *   projections (gap repair, rebuild), time travel or dead letters, whatever data the table holds;
 * - `readCredential` of such an account takes the hash from the stored event once, writes the credential item
 *   and rewrites the stored event without the hash, in one transaction (migration on first login);
 * - new appends refuse the field: credentials go in `AppendOptions.credential`.
 *
 * The fallback costs one extra read only when a user has no credential item. Remove it (and the stripping) once
 * every such account has logged in, or after rewriting the remaining events (`data` minus the field) by hand.
 */
import type { EventEnvelope } from '../shared/envelope.ts';

export const LEGACY_CREDENTIAL_FIELD = 'password_hash';

/** The envelope as every reader must see it: without a legacy password hash. */
export function withoutLegacyCredential(e: EventEnvelope): EventEnvelope {
  if (!Object.hasOwn(e.data, LEGACY_CREDENTIAL_FIELD)) return e;
  const { [LEGACY_CREDENTIAL_FIELD]: _hash, ...data } = e.data;
  return { ...e, data };
}

/** The hash a legacy first event carries, if it is one. */
export function legacyCredentialOf(e: EventEnvelope | undefined): string | undefined {
  const hash = e?.data[LEGACY_CREDENTIAL_FIELD];
  return typeof hash === 'string' && hash !== '' ? hash : undefined;
}

/** New events must not carry a credential (docs/event-store.md: credentials are never events): a programming error, refused before anything is written. */
export function refuseCredentialInData(e: { event_type: string; data: Record<string, unknown> }, aggregateId: string): void {
  if (e.data && Object.hasOwn(e.data, LEGACY_CREDENTIAL_FIELD)) {
    throw new TypeError(
      `append: event ${e.event_type} of ${aggregateId} carries ${LEGACY_CREDENTIAL_FIELD}; credentials are not events, pass AppendOptions.credential`,
    );
  }
}
