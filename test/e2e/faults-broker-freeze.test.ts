/**
 * Issue 9: the Kafka broker frozen (SIGSTOP) for 30 s under a steady workload, twice here and once more in
 * faults-broker-restart.test.ts — the sweeper that stayed stuck afterwards did so only sometimes. The
 * scenario and what is checked during and after it: test/support/broker-faults.ts. The shop has a broker, a
 * mail server, event store tables and a read-model database of its own (test/support/faults.ts).
 */
import { test } from 'node:test';
import { brokerFrozen, brokerFrozenTitle } from '../support/broker-faults.ts';
import { useFaultShop } from '../support/faults.ts';

const shop = useFaultShop({ projectors: 2 });

for (const run of [1, 2]) {
  test(brokerFrozenTitle(run, 3), async (t) => {
    const { f, actors } = shop();
    await brokerFrozen(t, f, actors, run);
  });
}
