export * from './events.ts';
export { userDecider, normaliseEmail } from './decider.ts';
export type { UserCommand, UserState } from './decider.ts';
export { emailClaimDecider, emailClaimStreamId } from './email-claim.ts';
export type { EmailClaimCommand, EmailClaimState } from './email-claim.ts';
