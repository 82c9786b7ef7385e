export * from './events.ts';
export { userDecider, normaliseEmail, registrationChecks, emailCheck, USER_NAME_MAX } from './decider.ts';
export type { UserCommand, UserState } from './decider.ts';
export { emailClaimDecider, emailClaimStreamId, legacyEmailClaimStreamId } from './email-claim.ts';
export type { EmailClaimCommand, EmailClaimState } from './email-claim.ts';
