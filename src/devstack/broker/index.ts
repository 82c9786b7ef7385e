/**
 * A single-node broker that speaks the Kafka wire protocol, for `make dev` and the tests (DESIGN.md §2.1).
 * It is not a production engine: production runs Apache Kafka.
 */
export { startBroker, type BrokerOptions, type RunningBroker } from './server.ts';
