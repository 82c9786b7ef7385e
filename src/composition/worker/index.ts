/** The worker's building blocks (consumer group `fulfillment`): the outbox sweeper and reservation-expiry timers. */
export { createOutboxSweeper } from './sweeper.ts';
export type { OutboxSweeper, OutboxSweeperOptions } from './sweeper.ts';
export { createExpiryScheduler, EXPIRY_SAGA_TYPE } from '../../contexts/orders/expiry.ts';
export type { ExpireOrder, ExpiryScheduler, ExpirySchedulerOptions } from '../../contexts/orders/expiry.ts';
export { applyWorkerSchema } from './schema.ts';
export { createLoop } from '../../platform/worker/loop.ts';
export type { Loop } from '../../platform/worker/loop.ts';
