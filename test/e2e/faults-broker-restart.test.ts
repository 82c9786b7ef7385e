/**
 * Issue 9: the Kafka broker frozen (SIGSTOP) for 30 s — the third run, the other two are in
 * faults-broker-freeze.test.ts — and then killed (SIGKILL) and restarted on the same port and data directory,
 * under a steady workload. The scenarios and what is checked during and after them:
 * test/support/broker-faults.ts. The shop has a broker, a mail server, event store tables and a read-model
 * database of its own (test/support/faults.ts).
 */
import { test } from 'node:test';
import { brokerFrozen, brokerFrozenTitle, brokerKilledAndRestarted, brokerKilledTitle } from '../support/broker-faults.ts';
import { useFaultShop } from '../support/faults.ts';

const shop = useFaultShop({ projectors: 2 });

test(brokerFrozenTitle(3, 3), async (t) => {
  const { f, actors } = shop();
  await brokerFrozen(t, f, actors, 3);
});

test(brokerKilledTitle, async (t) => {
  const { f, actors } = shop();
  await brokerKilledAndRestarted(t, f, actors);
});
