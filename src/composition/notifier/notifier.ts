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
 * Order: a customer's mails of one order go out in the order of its events. Delivery may not be in that order
 * (a republished OrderPlaced can arrive after the OrderPaid the api published directly), so before the mail of
 * event N the notifier reads the order's stream up to N from the event store and first sends every earlier
 * event's mail that sent_emails does not record yet, under that event's own claim. When the late event itself
 * arrives, its mail is already sent and it is skipped.
 *
 * Bounds: the claim is an open transaction, so it must never outlive PostgreSQL's idle-in-transaction limit set
 * below. The SMTP send has a hard deadline well inside it (transport.ts): otherwise a slow server could accept
 * the mail after PostgreSQL had already ended the session and dropped the claim, and the retry would send a
 * second copy. A claim that waits on a peer's claim gives up after lock_timeout with 55P03, which the consumer
 * treats as transient (the peer is sending that very mail): retried, never dead-lettered.
 *
 * The remaining window: a crash (or a lost database connection) after the SMTP server accepted the message and
 * before COMMIT leaves no row, so the retry sends a second copy. No ordering closes this: SMTP has no
 * transactions and no idempotency key a server must honour, so "accepted" and "recorded" can never be one
 * atomic step. Committing first instead would turn the window into a lost mail (at most once), which is worse
 * for an order confirmation. So the window is kept as short as one COMMIT round trip, and the duplicate, if it
 * ever happens, carries the same Message-ID, which mail clients and many servers use to fold duplicates.
 */
import type pg from 'pg';
import type { EventStore } from '../../platform/eventstore/types.ts';
import { inTransaction } from '../../platform/shared/pg-tx.ts';
import type { EventEnvelope } from '../../platform/shared/envelope.ts';
import type { Logger } from '../../platform/messaging/log.ts';
import type { OrderPlacedData } from '../../contexts/orders/events.ts';
import { ORDER_AGGREGATE_TYPE } from '../../contexts/orders/events.ts';
import { parseOrderPlaced } from '../../contexts/orders/mail-events.ts';
import { orderMailKind, renderOrderMail, type OrderMail, type OrderMailKind } from '../../contexts/orders/mail.ts';

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

/** The consumers' logger (src/platform/messaging/log.ts); only these levels are used. */
export type NotifierLog = Pick<Logger, 'info' | 'debug'> & Partial<Pick<Logger, 'warn'>>;

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
  /** Default CLAIM_LOCK_TIMEOUT_MS / CLAIM_IDLE_TIMEOUT_MS; the SMTP deadline must stay below idleMs. */
  claim?: { lockTimeoutMs?: number; idleTimeoutMs?: number };
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

/**
 * idle_in_transaction_session_timeout frees a claim whose holder froze mid-send without dying, which would
 * otherwise block every retry of that event; it is far above the SMTP deadline (transport.ts, 20 s), so a live
 * holder always commits first, and above a frozen database's pause too (the claim then waits, it is not lost).
 * lock_timeout bounds a wait behind a peer's claim: shorter than the peer's send can take, so the wait ends in a
 * transient error and a retry, not in a consumer stuck past its session timeout.
 */
export const CLAIM_IDLE_TIMEOUT_MS = 90_000;
export const CLAIM_LOCK_TIMEOUT_MS = 10_000;
const beginClaim = (lockMs: number, idleMs: number) =>
  `BEGIN; SET LOCAL lock_timeout = '${Math.round(lockMs)}ms'; SET LOCAL idle_in_transaction_session_timeout = '${Math.round(idleMs)}ms'`;
const CLAIM = `INSERT INTO sent_emails (event_id, kind, order_id, recipient, subject, message_id)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (event_id, kind) DO NOTHING
RETURNING event_id`;
const ALREADY_SENT = 'SELECT 1 FROM sent_emails WHERE event_id = $1 AND kind = $2';
const SENT_FOR_ORDER = 'SELECT event_id::text AS event_id, kind FROM sent_emails WHERE order_id = $1';

/** Per batch: what this batch already knows about each order, so consecutive events need no stream read. */
interface BatchMemory {
  placed: Map<string, OrderPlacedData>;
  /** Order → the highest version up to which every event of the order passed through this batch, in order. */
  contiguous: Map<string, number>;
}

export function createNotifier(opts: NotifierOptions): Notifier {
  const { pool, eventStore, from } = opts;
  const log: NotifierLog = opts.log ?? { info: () => {}, debug: () => {} };
  const domain = opts.messageIdDomain ?? 'ec-shop.local';
  const transport = opts.transport;
  const send: SendMail = typeof transport === 'function' ? transport : (mail) => transport.sendMail(mail);
  const BEGIN = beginClaim(opts.claim?.lockTimeoutMs ?? CLAIM_LOCK_TIMEOUT_MS, opts.claim?.idleTimeoutMs ?? CLAIM_IDLE_TIMEOUT_MS);

  /** Claim, send, commit (see the protocol above). Returns whether this call sent the mail. */
  async function sendOnce(event: EventEnvelope, mail: OrderMail, orderId: string): Promise<boolean> {
    const messageId = messageIdFor(event.event_id, mail.kind, domain);
    return inTransaction(
      pool,
      async (client) => {
        const claim = await client.query(CLAIM, [event.event_id, mail.kind, orderId, mail.to, mail.subject, messageId]);
        if (claim.rowCount === 0) return false; // a peer's claim is committed: it sent the mail (nothing of ours to keep)
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
          throw new Error(`sending ${mail.kind} mail for ${event.event_type} ${event.event_id} failed: ${(err as Error).message}`, {
            cause: err,
          });
        }
        return true;
      },
      { begin: BEGIN },
    );
  }

  const fieldsOf = (event: EventEnvelope, kind: OrderMailKind) => ({
    event_id: event.event_id,
    event_type: event.event_type,
    order_id: event.aggregate_id,
    kind,
  });

  async function mailFor(event: EventEnvelope, kind: OrderMailKind, order: OrderPlacedData, note?: string): Promise<void> {
    const mail = renderOrderMail(event, order);
    if (mail === null) return; // unreachable while orderMailKind and renderOrderMail agree
    const sent = await sendOnce(event, mail, order.order_id);
    log.info(sent ? (note ?? 'order mail sent') : 'order mail sent by a concurrent notifier', {
      ...fieldsOf(event, kind),
      message_id: messageIdFor(event.event_id, kind, domain),
    });
  }

  /**
   * The order's OrderPlaced, and the mail of every earlier event of the order sent before this one's. Reads the
   * stream only when this batch has not itself carried every earlier event of the order, in order.
   */
  async function prepare(event: EventEnvelope, memory: BatchMemory): Promise<OrderPlacedData> {
    if (event.event_type === 'OrderPlaced') return parseOrderPlaced(event);
    const known = memory.placed.get(event.aggregate_id);
    if (known && (memory.contiguous.get(event.aggregate_id) ?? 0) >= event.version - 1) return known;
    const stream = await eventStore.readStream(event.aggregate_id, { toVersion: event.version });
    const placedEvent = stream.find((e) => e.event_type === 'OrderPlaced');
    // Events are published only after they are stored, and reads are strongly consistent: a missing
    // OrderPlaced is corruption, not lag. Throwing sends the event to the retry/DLQ path.
    if (!placedEvent) throw new Error(`order ${event.aggregate_id} has no OrderPlaced (needed for ${event.event_type} ${event.event_id})`);
    const order = parseOrderPlaced(placedEvent);
    memory.placed.set(event.aggregate_id, order);
    const earlier = stream.filter((e) => e.version < event.version && orderMailKind(e) !== null);
    if (earlier.length > 0) {
      const { rows } = await pool.query<{ event_id: string; kind: string }>(SENT_FOR_ORDER, [order.order_id]);
      const sent = new Set(rows.map((r) => `${r.event_id}/${r.kind}`));
      for (const e of earlier) {
        const kind = orderMailKind(e)!;
        if (sent.has(`${e.event_id}/${kind}`)) continue;
        try {
          await mailFor(e, kind, order, 'order mail sent ahead of a later event of the order (it had not arrived yet)');
        } catch (err) {
          // An earlier event whose mail can never be rendered is its own delivery's problem (it will be
          // dead-lettered then); it must not hold every later mail of the order back forever.
          if (!(err instanceof TypeError)) throw err;
          log.warn?.('order mail of an earlier event cannot be rendered; sending the later one anyway', {
            ...fieldsOf(e, kind),
            error: err.message,
          });
        }
      }
    }
    return order;
  }

  async function handle(event: EventEnvelope, memory: BatchMemory): Promise<void> {
    const kind = orderMailKind(event);
    if (kind === null) return;
    // sent_emails.event_id is a uuid column: say what is wrong instead of surfacing a cast error from SQL.
    if (!UUID.test(event.event_id)) throw new TypeError(`${event.event_type} event_id ${JSON.stringify(event.event_id)} is not a UUID`);
    // Cheap path for redeliveries: no stream read and no transaction for mail already committed as sent.
    const done = await pool.query(ALREADY_SENT, [event.event_id, kind]);
    if ((done.rowCount ?? 0) > 0) {
      log.debug('order mail already sent', fieldsOf(event, kind));
      return;
    }
    const order = await prepare(event, memory);
    memory.placed.set(order.order_id, order);
    await mailFor(event, kind, order);
  }

  return {
    async handleBatch(events) {
      // Per batch, not per process: OrderPlaced never changes, but an unbounded cache would grow forever.
      const memory: BatchMemory = { placed: new Map(), contiguous: new Map() };
      // Sequential on purpose: a customer should get "placed" before "paid" when both are in one batch.
      for (const event of events) {
        await handle(event, memory);
        if (event.aggregate_type === ORDER_AGGREGATE_TYPE) {
          const upTo = memory.contiguous.get(event.aggregate_id) ?? 0;
          if (event.version === upTo + 1) memory.contiguous.set(event.aggregate_id, event.version);
        }
      }
    },
  };
}
