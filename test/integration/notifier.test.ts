/**
 * The notifier against a real SMTP inbox (MailDev) and a real PostgreSQL:
 *   STACK_SERVICES=postgres,mail npx tsx scripts/with-stack.ts -- node --import tsx --test test/integration/notifier.test.ts
 * Every test uses fresh order ids and recipients, and reads only its own recipient's inbox.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import type { EventStore } from '../../src/platform/eventstore/types.ts';
import {
  createNotifier,
  messageIdFor,
  type NotifierOptions,
  type OutgoingMail,
  type SendMail,
} from '../../src/composition/notifier/notifier.ts';
import { createSmtpTransport, type SmtpTransport } from '../../src/composition/notifier/transport.ts';
import { applySchema } from '../../src/platform/readmodel/schema.ts';
import type { EventEnvelope } from '../../src/platform/shared/envelope.ts';
import { isTransientError } from '../../src/platform/messaging/retry.ts';
import { uniq } from '../support/env.ts';
import { envelopeOf } from '../support/envelopes.ts';

const need = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run through scripts/with-stack.ts (STACK_SERVICES=postgres,mail)`);
  return value;
};
const env = {
  databaseUrl: need('DATABASE_URL'),
  smtpHost: need('SMTP_HOST'),
  smtpPort: Number(need('SMTP_PORT')),
  maildevUrl: need('MAILDEV_URL'),
};
const FROM = 'EC Shop <no-reply@ec-shop.local>';

// ---- events -------------------------------------------------------------------------------------------------

const envelope = envelopeOf;

interface TestOrder {
  orderId: string;
  email: string;
  placed: EventEnvelope;
}

const newOrder = (): TestOrder => {
  const orderId = randomUUID();
  const email = `${uniq('buyer')}@example.com`;
  const placed = envelope('Order', orderId, 1, 'OrderPlaced', {
    order_id: orderId,
    user_id: uniq('user'),
    user_email: email,
    items: [
      { product_id: 'p-1', name: '有機コーヒー豆', price: 1000, quantity: 2, subtotal: 2000 },
      { product_id: 'p-2', name: 'マグカップ', price: 1500, quantity: 1, subtotal: 1500 },
    ],
    total: 3500,
    expires_at: '2024-10-18T12:45:00.000Z',
    placed_at: '2024-10-18T12:30:00.000Z',
  });
  return { orderId, email, placed };
};

/** The event store as the notifier sees it: only readStream, answered from the orders given. Records reads. */
const fakeEventStore = (...orders: TestOrder[]) => {
  const reads: string[] = [];
  const store: Pick<EventStore, 'readStream'> = {
    readStream: async (aggregateId, opts) => {
      reads.push(aggregateId);
      const stream = orders.filter((o) => o.orderId === aggregateId).map((o) => o.placed);
      return stream.filter((e) => opts?.toVersion === undefined || e.version <= opts.toVersion);
    },
  };
  return { store, reads };
};

// ---- MailDev ------------------------------------------------------------------------------------------------

interface InboxMail {
  id: string;
  subject: string;
  to: Array<{ address: string }>;
  text: string;
  html: string;
  headers: Record<string, string>;
}

const inboxOf = async (recipient: string): Promise<InboxMail[]> => {
  const res = await fetch(`${env.maildevUrl}/email`);
  assert.equal(res.status, 200);
  const all = (await res.json()) as InboxMail[];
  return all.filter((m) => m.to.some((t) => t.address === recipient));
};

/** Polls until probe returns a value or the deadline passes: mail lands in MailDev asynchronously. */
const waitFor = async <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(50);
  }
};

const waitForMail = (recipient: string, match: (m: InboxMail) => boolean = () => true) =>
  waitFor(`mail to ${recipient}`, async () => (await inboxOf(recipient)).find(match));

/**
 * Everything the recipient got, once the inbox has settled: a sentinel sent after the mails under test is
 * accepted after them, so once it is visible, any duplicate sent before it is too. Proves "no second mail"
 * without a fixed sleep.
 */
const settledInbox = async (transport: SmtpTransport, recipient: string): Promise<InboxMail[]> => {
  const sentinel = `sentinel ${randomUUID()}`;
  await transport.sendMail({ from: FROM, to: recipient, subject: sentinel, text: 'sentinel' });
  await waitForMail(recipient, (m) => m.subject === sentinel);
  return (await inboxOf(recipient)).filter((m) => m.subject !== sentinel);
};

// ---- fixtures -----------------------------------------------------------------------------------------------

let pool: pg.Pool;
let transport: SmtpTransport;

const sentRows = async (eventId: string) =>
  (await pool.query('SELECT kind, order_id, recipient, subject, message_id FROM sent_emails WHERE event_id = $1', [eventId])).rows;

/** A send function that records every mail handed to it and forwards it to the real SMTP server. */
const spy = (forward: SendMail = (m) => transport.sendMail(m)) => {
  const calls: OutgoingMail[] = [];
  const send: SendMail = async (mail) => {
    calls.push(mail);
    return forward(mail);
  };
  return { send, calls };
};

const notifier = (overrides: Partial<NotifierOptions> & Pick<NotifierOptions, 'transport'>) =>
  createNotifier({ pool, eventStore: fakeEventStore().store, from: FROM, ...overrides });

const collect = (lines: string[]) => ({ info: (m: string) => void lines.push(m), debug: (m: string) => void lines.push(m) });

const closedPort = async (): Promise<number> => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
};

before(async () => {
  pool = new pg.Pool({ connectionString: env.databaseUrl, max: 5 });
  await applySchema(pool);
  transport = createSmtpTransport({ host: env.smtpHost, port: env.smtpPort });
});

after(async () => {
  transport.close();
  await pool.end();
});

// ---- tests --------------------------------------------------------------------------------------------------

describe('email notifier (PostgreSQL + MailDev)', () => {
  it('sends the order confirmation once, with a UTF-8 Japanese subject, the items, the total and a deterministic Message-ID', async () => {
    const order = newOrder();
    const { send, calls } = spy();
    await notifier({ transport: send }).handleBatch([order.placed]);

    const mail = await waitForMail(order.email);
    const expectedSubject = `【EC Shop】ご注文確認（注文番号 ${order.orderId}）`;
    assert.equal(mail.subject, expectedSubject);
    assert.match(mail.text, /有機コーヒー豆/);
    assert.match(mail.text, /¥1,000 × 2 = ¥2,000/);
    assert.match(mail.text, /合計: ¥3,500/);
    assert.match(mail.text, /お支払い期限: 2024年10月18日 21:45 \(日本時間\)/);
    assert.match(mail.html, /マグカップ/);
    const messageId = `<${order.placed.event_id}.order_placed@ec-shop.local>`;
    assert.equal(mail.headers['message-id'], messageId);

    // On the wire the subject must be an RFC 2047 encoded word (headers are ASCII), which decodes to the above.
    const raw = await (await fetch(`${env.maildevUrl}/email/${mail.id}/source`)).text();
    const subjectLine = /^Subject: (.*(?:\r?\n[ \t].*)*)/m.exec(raw)?.[1];
    assert.ok(subjectLine, 'raw message has a Subject header');
    assert.match(subjectLine, /=\?UTF-8\?[BQ]\?/i);
    assert.match(subjectLine, /^[\x20-\x7e\r\n\t]+$/, 'the raw Subject header is pure ASCII');
    assert.match(raw, /charset=utf-8/i);

    assert.deepEqual(await sentRows(order.placed.event_id), [
      { kind: 'order_placed', order_id: order.orderId, recipient: order.email, subject: expectedSubject, message_id: messageId },
    ]);
    assert.equal(calls.length, 1);
    assert.equal((await settledInbox(transport, order.email)).length, 1);
  });

  it('sends one mail when the same event is delivered twice in one batch and again in a later batch', async () => {
    const order = newOrder();
    const { send, calls } = spy();
    const log: string[] = [];
    const n = notifier({ transport: send, log: collect(log) });

    await n.handleBatch([order.placed, order.placed]);
    await n.handleBatch([order.placed]);
    // A second process (fresh batch cache, own connections) sees the same committed claim.
    await notifier({ transport: send }).handleBatch([order.placed]);

    assert.equal(calls.length, 1);
    assert.deepEqual(log, ['order mail sent', 'order mail already sent', 'order mail already sent']);
    assert.equal((await sentRows(order.placed.event_id)).length, 1);
    assert.equal((await settledInbox(transport, order.email)).length, 1);
  });

  it('sends one mail when two notifiers handle the same event at the same time', async () => {
    const order = newOrder();
    const pools = [new pg.Pool({ connectionString: env.databaseUrl, max: 2 }), new pg.Pool({ connectionString: env.databaseUrl, max: 2 })];
    try {
      // Whichever notifier claims first holds its transaction open until the other is provably blocked on the
      // claim's row lock: the race this test is about happens every run, not by luck.
      const blockedOnClaim = async () => {
        const { rows } = await pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO sent_emails%'`,
        );
        return (rows[0]?.n ?? 0) > 0 ? true : undefined;
      };
      const { send, calls } = spy(async (mail) => {
        await waitFor('the other notifier to block on the claim', blockedOnClaim);
        return transport.sendMail(mail);
      });
      const log: string[] = [];
      const [a, b] = pools.map((p) =>
        createNotifier({ pool: p, eventStore: fakeEventStore(order).store, transport: send, from: FROM, log: collect(log) }),
      );
      await Promise.all([a!.handleBatch([order.placed]), b!.handleBatch([order.placed])]);

      assert.equal(calls.length, 1);
      assert.deepEqual(log.sort(), ['order mail sent', 'order mail sent by a concurrent notifier']);
      assert.equal((await sentRows(order.placed.event_id)).length, 1);
      assert.equal((await settledInbox(transport, order.email)).length, 1);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it('rolls the claim back when SMTP fails, so the retry sends the mail', async () => {
    const order = newOrder();
    const broken = createSmtpTransport({ host: '127.0.0.1', port: await closedPort() });
    try {
      await assert.rejects(
        notifier({ transport: broken }).handleBatch([order.placed]),
        /sending order_placed mail for OrderPlaced .* failed/,
      );
    } finally {
      broken.close();
    }
    assert.deepEqual(await sentRows(order.placed.event_id), []);

    await notifier({ transport }).handleBatch([order.placed]);
    const mail = await waitForMail(order.email);
    assert.match(mail.subject, /ご注文確認/);
    assert.equal((await sentRows(order.placed.event_id)).length, 1);
    assert.equal((await settledInbox(transport, order.email)).length, 1);
  });

  it('keeps what a failed batch already sent, and the retried batch sends only the rest', async () => {
    const first = newOrder();
    const second = newOrder();
    const failing = spy(async (mail) => {
      if (mail.to === second.email) throw new Error('451 try again later');
      return transport.sendMail(mail);
    });
    await assert.rejects(notifier({ transport: failing.send }).handleBatch([first.placed, second.placed]), /451 try again later/);
    assert.equal((await sentRows(first.placed.event_id)).length, 1);
    assert.deepEqual(await sentRows(second.placed.event_id), []);

    const retry = spy();
    await notifier({ transport: retry.send }).handleBatch([first.placed, second.placed]);
    assert.deepEqual(
      retry.calls.map((m) => m.to),
      [second.email],
    );
    assert.equal((await settledInbox(transport, first.email)).length, 1);
    assert.equal((await settledInbox(transport, second.email)).length, 1);
  });

  it('sends the shipping notice with the tracking number, reading the recipient from the order stream', async () => {
    const order = newOrder();
    const tracking = `JP-${randomUUID().slice(0, 8)}`;
    const shipped = envelope('Order', order.orderId, 3, 'OrderShipped', {
      order_id: order.orderId,
      tracking_number: tracking,
      shipped_at: '2024-10-19T01:00:00Z',
    });
    const { store, reads } = fakeEventStore(order);
    await notifier({ transport }).handleBatch([order.placed]);
    await notifier({ transport, eventStore: store }).handleBatch([shipped]);

    const mail = await waitForMail(order.email, (m) => m.subject.includes('発送'));
    assert.equal(mail.subject, `【EC Shop】発送のお知らせ（注文番号 ${order.orderId}）`);
    assert.match(mail.text, new RegExp(`追跡番号: ${tracking}`));
    assert.match(mail.html, new RegExp(tracking));
    assert.match(mail.text, /有機コーヒー豆/);
    assert.deepEqual(reads, [order.orderId]);
    assert.equal(mail.headers['message-id'], messageIdFor(shipped.event_id, 'order_shipped'));
  });

  it('sends the cancellation notice with the reason, escaped in HTML', async () => {
    const order = newOrder();
    const reason = '<b>気が変わりました</b> & また今度';
    const cancelled = envelope('Order', order.orderId, 2, 'OrderCancelled', {
      order_id: order.orderId,
      reason,
      cancelled_by: 'customer',
      cancelled_at: '2024-10-18T12:40:00Z',
    });
    await notifier({ transport, eventStore: fakeEventStore(order).store }).handleBatch([order.placed, cancelled]);

    const mail = await waitForMail(order.email, (m) => m.subject.includes('キャンセル'));
    assert.match(mail.subject, /キャンセルのお知らせ/);
    assert.ok(mail.text.includes(`キャンセル理由: ${reason}`));
    assert.ok(mail.html.includes('&lt;b&gt;気が変わりました&lt;/b&gt; &amp; また今度'));
    assert.ok(!mail.html.includes('<b>'));
  });

  it('sends nothing, and reads nothing, for events that call for no mail', async () => {
    const order = newOrder();
    const { send, calls } = spy();
    const { store, reads } = fakeEventStore(order);
    const events = [
      envelope('User', uniq('user'), 1, 'UserRegistered', { user_id: 'u', email: order.email, role: 'customer' }),
      envelope('Product', uniq('product'), 1, 'ProductCreated', { product_id: 'p', name: 'x', price: 100 }),
      envelope('Order', order.orderId, 4, 'OrderDelivered', { order_id: order.orderId, delivered_at: '2024-10-20T00:00:00Z' }),
    ];
    await notifier({ transport: send, eventStore: store }).handleBatch(events);

    assert.equal(calls.length, 0);
    assert.deepEqual(reads, []);
    for (const event of events) assert.deepEqual(await sentRows(event.event_id), []);
    assert.equal((await settledInbox(transport, order.email)).length, 0);
  });
  it('keeps the order of the events when delivery does not: a late OrderPlaced is mailed before the OrderPaid that overtook it, once', async () => {
    const order = newOrder();
    const paid = envelope('Order', order.orderId, 2, 'OrderPaid', {
      order_id: order.orderId,
      amount: 3500,
      paid_at: '2024-10-18T12:35:00Z',
    });
    const stream = [order.placed, paid];
    const store: Pick<EventStore, 'readStream'> = {
      readStream: async (_id, opts) => stream.filter((e) => opts?.toVersion === undefined || e.version <= opts.toVersion),
    };
    const { send, calls } = spy();
    const log: string[] = [];
    const n = notifier({ transport: send, eventStore: store, log: collect(log) });
    // The api published OrderPaid directly; OrderPlaced's publish had failed and the sweeper republishes it later.
    await n.handleBatch([paid]);
    await n.handleBatch([order.placed]);

    assert.deepEqual(
      calls.map((m) => m.headers['X-EC-Mail-Kind']),
      ['order_placed', 'order_paid'],
    );
    assert.deepEqual(log, [
      'order mail sent ahead of a later event of the order (it had not arrived yet)',
      'order mail sent',
      'order mail already sent',
    ]);
    const inbox = await settledInbox(transport, order.email);
    assert.equal(inbox.length, 2);
    // MailDev lists mail in arrival order.
    assert.deepEqual(
      inbox.map((m) => m.headers['x-ec-mail-kind']),
      ['order_placed', 'order_paid'],
    );
  });

  it('a claim blocked behind a peer’s claim gives up with lock_timeout (55P03), which consumers retry instead of dead-lettering', async () => {
    const order = newOrder();
    const holder = await pool.connect();
    try {
      // A peer mid-send: its claim row is inserted and uncommitted.
      await holder.query('BEGIN');
      await holder.query(
        "INSERT INTO sent_emails (event_id, kind, order_id, recipient, subject, message_id) VALUES ($1, 'order_placed', $2, $3, 's', 'm')",
        [order.placed.event_id, order.orderId, order.email],
      );
      const { send, calls } = spy();
      const started = Date.now();
      const err = await notifier({ transport: send, claim: { lockTimeoutMs: 300 } })
        .handleBatch([order.placed])
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      assert.ok(err, 'the blocked claim failed');
      assert.equal((err as { code?: string }).code, '55P03', String(err));
      assert.equal(isTransientError(err), true, 'a lock timeout is transient');
      assert.ok(Date.now() - started < 5_000, `gave up after ${Date.now() - started} ms`);
      assert.equal(calls.length, 0, 'nothing sent while the peer holds the claim');
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    // The peer gave up (rolled back): the retry sends the mail, once.
    await notifier({ transport }).handleBatch([order.placed]);
    assert.equal((await sentRows(order.placed.event_id)).length, 1);
    assert.equal((await settledInbox(transport, order.email)).length, 1);
  });

  it('bounds a send to a server that never accepts: the claim is rolled back and the connection cut before the server could accept', async () => {
    const order = newOrder();
    // A server that speaks SMTP up to the message's final dot and then never answers.
    let closedByClient = false;
    let gotMessage = false;
    const slow = createServer((socket) => {
      socket.write('220 slow.test ESMTP\r\n');
      let inData = false;
      socket.on('data', (chunk) => {
        for (const line of chunk.toString('utf8').split('\r\n')) {
          if (inData) {
            if (line === '.') {
              gotMessage = true;
              inData = false; // …and no 250: the accept never comes
            }
            continue;
          }
          if (/^(EHLO|HELO)/i.test(line)) socket.write('250 slow.test\r\n');
          else if (/^(MAIL|RCPT)/i.test(line)) socket.write('250 OK\r\n');
          else if (/^DATA/i.test(line)) {
            inData = true;
            socket.write('354 go ahead\r\n');
          } else if (/^QUIT/i.test(line)) socket.end('221 bye\r\n');
        }
      });
      socket.on('close', () => (closedByClient = true));
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const { port } = slow.address() as { port: number };
    const bounded = createSmtpTransport({ host: '127.0.0.1', port, sendTimeoutMs: 1_500 });
    try {
      const started = Date.now();
      const err = await notifier({ transport: bounded })
        .handleBatch([order.placed])
        .then(
          () => undefined,
          (e: unknown) => e as Error,
        );
      assert.match(String(err), /did not accept the message within 1500 ms/);
      assert.equal(isTransientError(err), true, 'a slow SMTP server is an outage, not a bad mail');
      assert.ok(Date.now() - started < 4_000, `gave up after ${Date.now() - started} ms`);
      assert.equal(gotMessage, true, 'the server had the whole message');
      await waitFor('the client to cut the connection', async () => (closedByClient ? true : undefined), 3_000);
      assert.deepEqual(await sentRows(order.placed.event_id), [], 'claim rolled back');
    } finally {
      bounded.close();
      await new Promise<void>((resolve) => slow.close(() => resolve()));
    }
  });
});
