/**
 * A single-node broker that speaks the Kafka wire protocol, for `make dev` and the tests. It is not a
 * production engine: production runs Apache Kafka.
 */
import { fileURLToPath } from 'node:url';

export { startBroker, type BrokerOptions, type RunningBroker } from './server.ts';

/** The command-line broker (`kafka-dev-broker --port …`), for whoever runs it as a process of its own. */
export const BROKER_BIN = fileURLToPath(new URL('../bin/kafka-dev-broker.ts', import.meta.url));
