/**
 * The `email-notifier` consumer's effect: order events in, customer mail out, exactly once in effect although
 * Kafka delivers at least once (redeliveries after a crash or a rebalance, sweeper republishes, two processes
 * briefly owning one partition).
 *
 * Protocol, per (event_id, kind):
 *   1. BEGIN; INSERT INTO sent_emails … ON CONFLICT DO NOTHING RETURNING — the claim. A row already committed
 *      means "sent": nothing to do. A row inserted by a concurrent, uncommitted transaction makes this INSERT
 *      wait on the primary key's row lock; when the holder commits it returns nothing (no mail), when the holder
 *      rolls back it succeeds and this process sends instead.
 *   2. Send over SMTP with a deterministic Message-ID `<event_id.kind@ec-shop.local>`.
 *   3. COMMIT only after the SMTP server accepted the message. If sending fails: ROLLBACK (the claim vanishes)
 *      and throw, so the consumer does not commit its offset and the event is retried.
 *
 * The remaining window: a crash (or a lost database connection) after the SMTP server accepted the message and
 * before COMMIT leaves no row, so the retry sends a second copy. No ordering closes this: SMTP has no
 * transactions and no idempotency key a server must honour, so "accepted" and "recorded" can never be one
 * atomic step. Committing first instead would turn the window into a lost mail (at most once), which is worse
 * for an order confirmation. So the window is kept as short as one COMMIT round trip, and the duplicate, if it
 * ever happens, carries the same Message-ID, which mail clients and many servers use to fold duplicates.
 */
import type pg from 'pg';
import type { EventStore } from '../eventstore/types.ts';
import type { EventEnvelope } from '../shared/envelope.ts';
import type { Logger } from '../messaging/log.ts';
import type { OrderPlacedData } from '../orders/events.ts';
import { parseOrderPlaced } from './order-events.ts';
import { orderMailKind, renderOrderMail, type OrderMail, type OrderMailKind } from './templates.ts';

/** What the notifier hands to the transport; a nodemailer Transporter's sendMail accepts it as is. */
export interface OutgoingMail {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  messageId: string;
  headers: Record<string, string>;
}

/** Resolves once the SMTP server has accepted the message; rejects otherwise. */
export type SendMail = (mail: OutgoingMail) => Promise<unknown>;
export interface MailTransport {
  sendMail(mail: OutgoingMail): Promise<unknown>;
}

/** The consumers' logger (src/messaging/log.ts); only these two levels are used. */
export type NotifierLog = Pick<Logger, 'info' | 'debug'>;

export interface NotifierOptions {
  pool: pg.Pool;
  /** The source of truth for an order's OrderPlaced (never the read model, which may lag). */
  eventStore: Pick<EventStore, 'readStream'>;
  /** A nodemailer Transporter (see createSmtpTransport) or any function that sends one mail. */
  transport: MailTransport | SendMail;
  /** The From header, e.g. `EC Shop <no-reply@ec-shop.local>`. */
  from: string;
  log?: NotifierLog;
  /** Right-hand side of the Message-ID. */
  messageIdDomain?: string;
}

export interface Notifier {
  /**
   * Sends the mail the events call for, in order, each at most once per (event, kind) barring the window
   * above. Resolves when every mail is sent or known to be sent; rejects on the first failure, after which
   * the whole batch may be retried (already-sent events are skipped).
   */
  handleBatch(events: readonly EventEnvelope[]): Promise<void>;
}

export const messageIdFor = (eventId: string, kind: OrderMailKind, domain = 'ec-shop.local'): string => `<${eventId}.${kind}@${domain}>`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// lock_timeout bounds how long a claim may wait behind a peer's uncommitted claim (its send is bounded by the
// SMTP timeouts, far below this); idle_in_transaction_session_timeout frees a claim whose holder froze mid-send
// without dying, which would otherwise block every retry of that event. Both outlast any healthy send.
const BEGIN = "BEGIN; SET LOCAL lock_timeout = '30s'; SET LOCAL idle_in_transaction_session_timeout = '60s'";
const CLAIM = `INSERT INTO sent_emails (event_id, kind, order_id, recipient, subject, message_id)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (event_id, kind) DO NOTHING
RETURNING event_id`;
const ALREADY_SENT = 'SELECT 1 FROM sent_emails WHERE event_id = $1 AND kind = $2';

export function createNotifier(opts: NotifierOptions): Notifier {
  const { pool, eventStore, from } = opts;
  const log: NotifierLog = opts.log ?? { info: () => {}, debug: () => {} };
  const domain = opts.messageIdDomain ?? 'ec-shop.local';
  const transport = opts.transport;
  const send: SendMail = typeof transport === 'function' ? transport : (mail) => transport.sendMail(mail);

  /** OrderPlaced of the event's order: the event itself, this batch's cache, or the order's stream. */
  async function orderOf(event: EventEnvelope, cache: Map<string, OrderPlacedData>): Promise<OrderPlacedData> {
    if (event.event_type === 'OrderPlaced') return parseOrderPlaced(event);
    const cached = cache.get(event.aggregate_id);
    if (cached) return cached;
    const stream = await eventStore.readStream(event.aggregate_id, { toVersion: event.version });
    const placed = stream.find((e) => e.event_type === 'OrderPlaced');
    // Events are published only after they are stored, and reads are strongly consistent: a missing
    // OrderPlaced is corruption, not lag. Throwing sends the event to the retry/DLQ path.
    if (!placed) throw new Error(`order ${event.aggregate_id} has no OrderPlaced (needed for ${event.event_type} ${event.event_id})`);
    return parseOrderPlaced(placed);
  }

  /** Claim, send, commit (see the protocol above). Returns whether this call sent the mail. */
  async function sendOnce(event: EventEnvelope, mail: OrderMail, orderId: string): Promise<boolean> {
    const messageId = messageIdFor(event.event_id, mail.kind, domain);
    const client = await pool.connect();
    let broken = false;
    try {
      await client.query(BEGIN);
      const claim = await client.query(CLAIM, [event.event_id, mail.kind, orderId, mail.to, mail.subject, messageId]);
      if (claim.rowCount === 0) {
        await client.query('ROLLBACK');
        return false;
      }
      try {
        await send({
          from,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
          messageId,
          // RFC 3834: keeps auto-responders from answering; the X- headers trace a mail back to its event.
          headers: { 'Auto-Submitted': 'auto-generated', 'X-EC-Event-Id': event.event_id, 'X-EC-Mail-Kind': mail.kind },
        });
      } catch (err) {
        throw new Error(`sending ${mail.kind} mail for ${event.event_type} ${event.event_id} failed: ${(err as Error).message}`, { cause: err });
      }
      await client.query('COMMIT');
      return true;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {
        broken = true; // the connection is gone, and with it the transaction: do not pool this client
      });
      throw err;
    } finally {
      client.release(broken);
    }
  }

  async function handle(event: EventEnvelope, cache: Map<string, OrderPlacedData>): Promise<void> {
    const kind = orderMailKind(event);
    if (kind === null) return;
    // sent_emails.event_id is a uuid column: say what is wrong instead of surfacing a cast error from SQL.
    if (!UUID.test(event.event_id)) throw new TypeError(`${event.event_type} event_id ${JSON.stringify(event.event_id)} is not a UUID`);
    const fields = { event_id: event.event_id, event_type: event.event_type, order_id: event.aggregate_id, kind };
    // Cheap path for redeliveries: no stream read and no transaction for mail already committed as sent.
    const done = await pool.query(ALREADY_SENT, [event.event_id, kind]);
    if ((done.rowCount ?? 0) > 0) {
      log.debug('order mail already sent', fields);
      return;
    }
    const order = await orderOf(event, cache);
    cache.set(order.order_id, order);
    const mail = renderOrderMail(event, order);
    if (mail === null) return; // unreachable while orderMailKind and renderOrderMail agree
    const sent = await sendOnce(event, mail, order.order_id);
    log.info(sent ? 'order mail sent' : 'order mail sent by a concurrent notifier', { ...fields, message_id: messageIdFor(event.event_id, kind, domain) });
  }

  return {
    async handleBatch(events) {
      // Per batch, not per process: OrderPlaced never changes, but an unbounded cache would grow forever.
      const cache = new Map<string, OrderPlacedData>();
      // Sequential on purpose: a customer should get "placed" before "paid" when both are in one batch.
      for (const event of events) await handle(event, cache);
    },
  };
}
