import type { Config } from '../platform/shared/config.ts';
import { checks, connectEventStore, connectReadDb } from './infra.ts';
import { createNotifier } from '../composition/notifier/notifier.ts';
import { createSmtpTransport } from '../composition/notifier/transport.ts';
import type { Logger } from '../platform/shared/log.ts';
import { startConsumerProcess } from './consumer-process.ts';

/** Consumer group `email-notifier`: order mail, exactly once in effect (sent_emails). */
export async function startNotifier(config: Config, log: Logger) {
  const events = await connectEventStore(config);
  const pool = await connectReadDb(config, { max: 4 });
  const transport = createSmtpTransport({ host: config.smtp.host, port: config.smtp.port });
  const notifier = createNotifier({ pool, eventStore: events.store, transport, from: config.smtp.from, log });
  return startConsumerProcess({
    name: 'notifier',
    groupId: 'email-notifier',
    config,
    log,
    handleBatch: (batch) => notifier.handleBatch(batch),
    checks: [
      checks.postgres(pool),
      checks.dynamodb(events),
      // A real SMTP handshake: less often, it opens a connection each time.
      { name: 'smtp', intervalMs: 10_000, timeoutMs: 2_000, probe: () => transport.verify().then(() => undefined) },
    ],
    close: async () => {
      transport.close();
      await pool.end();
      events.close();
    },
  });
}
