export * from './events.ts';
export { userDecider, normaliseEmail, registrationChecks, emailCheck } from './decider.ts';
export { emailClaimDecider, emailClaimStreamId, legacyEmailClaimStreamId } from './email-claim.ts';
