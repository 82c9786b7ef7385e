import type { Application } from '../composition/application.ts';
import type { DeadLetterAdmin } from '../platform/messaging/dlq-admin.ts';
import type { ParkingProjector } from '../composition/projections/parking.ts';
import type { SecurityConfig } from '../platform/shared/config.ts';
import type { SessionStore } from '../platform/eventstore/sessions.ts';
import type { EventStore } from '../platform/eventstore/types.ts';
import type { ReadQueries } from '../composition/queries.ts';
import type { Readiness } from '../platform/shared/health.ts';
import type { Logger } from '../platform/shared/log.ts';
import type { Metrics } from '../platform/shared/metrics.ts';
import type { Tokens } from '../platform/http/auth.ts';
import type { ReadWaits } from '../composition/http/consistency.ts';
import type { LiveOptions } from '../composition/http/live-routes.ts';

/** Everything the HTTP layer needs, built by the entry point and passed in (no globals, easy to fake). */
export interface HttpDeps {
  tokens: Tokens;
  /** Refresh-token families (rotation, reuse detection, logout). */
  sessions: SessionStore;
  queries: ReadQueries;
  /** Read-your-writes waits, bounded per client and only for readable streams. */
  waits: ReadWaits;
  store: EventStore;
  /** The write side: the executor and every context's command handlers (src/composition/application.ts). */
  app: Application;
  ops: {
    /** /readyz from cached, bounded probes (src/platform/shared/health.ts): never waits on a dependency. */
    readiness: () => Readiness;
    /** /ops/lag: never rejects; the last report, marked stale, while the broker does not answer. */
    lag: () => Promise<unknown>;
    /** Records in the dead-letter topic per partition (what consumers gave up on). */
    dlq?: () => Promise<unknown>;
    /** The dead letters one by one, and putting them back (src/platform/messaging/dlq-admin.ts). */
    deadLetters?: DeadLetterAdmin;
    /** Streams parked by the projector and retrying them (src/composition/projections/parking.ts). */
    parked?: Pick<ParkingProjector, 'list' | 'retry'>;
    metrics: Metrics;
    links: Record<string, string>;
  };
  log: Logger;
  bodyLimitBytes: number;
  /** Directory of the built SPA (web/dist: index.html and hashed assets/). */
  webDir: string;
  /** Trusted proxies, rate limits and wait bounds (config SecurityConfig). */
  security: SecurityConfig;
  /** Live status (GET /live); absent → the route answers 503. */
  live?: LiveOptions;
}
