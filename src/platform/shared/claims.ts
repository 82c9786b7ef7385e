import { createHash } from 'node:crypto';

/**
 * The key of a uniqueness-claim stream (`user-email:<key>`, `category-name:<key>`): SHA-256 of the normalised
 * value, base64url. Whatever someone types as a name (`"`, `{{7*7}}`, `../../etc/passwd`, 1,000 characters), the
 * stream id is 43 characters of [A-Za-z0-9_-], so it is a safe DynamoDB key, Kafka key, log field and path
 * segment, and an email address never appears in a stream id, the event log's ids or a Kafka key. Pure: the same
 * value gives the same key in every process and release, which is what makes the claim a lock.
 */
export const claimKey = (normalised: string): string => createHash('sha256').update(normalised, 'utf8').digest('base64url');
