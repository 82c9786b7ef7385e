/**
 * The messaging layer logs through the project's logger interface (src/platform/shared/log.ts), handed in by each
 * process, so kafkajs, consumer and publisher lines look like every other line of that process.
 */
import type { Logger } from '../shared/log.ts';

export type { LogFields, Logger } from '../shared/log.ts';

/** A logger that drops everything (tests that assert on behaviour, not on output). */
export function silentLogger(): Logger {
  const drop = () => {};
  return { debug: drop, info: drop, warn: drop, error: drop };
}
