/**
 * The simulated carrier (002: "配送処理は90%の成功率でシミュレーション"): an adapter of the carrier port
 * (src/contexts/shipping/carrier.ts) with its books in PostgreSQL, as a real carrier keeps its own. It decides a
 * parcel's fate when it accepts it — dispatched with a tracking number, or failed with a reason, with
 * probability `failureRate` — and reveals it `delayMs` later. Because the fate is stored, not drawn when
 * asked, the answer is the same however often and by whichever worker it is asked: a worker killed after
 * asking and before recording the answer asks again and gets the same one.
 *
 * This is where the randomness lives; deciders never see it (they get the answer as a command argument).
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Carrier, CarrierAnswer, CarrierBooking, ShipmentRequest } from './carrier.ts';

export const SIMULATED_CARRIER = 'simulated';

/** What the simulated carrier says when a parcel fails (shown to the customer in the shipment-failed mail). */
export const SIMULATED_FAILURE_REASONS = [
  '宛先不明のため配達できませんでした',
  '輸送中の破損により配送を中止しました',
  '配送業者の集荷が成立しませんでした',
] as const;

export interface SimulatedCarrierOptions {
  pool: pg.Pool;
  /** How long after booking the carrier answers (SHIPMENT_DELAY_MS). */
  delayMs: number;
  /** Share of parcels that fail, 0..1 (SHIPMENT_FAILURE_RATE). */
  failureRate: number;
  clock: () => Date;
  /** Uniform in [0, 1): the fate draw, the failure reason and the tracking number. Default Math.random. */
  random?: () => number;
}

interface ParcelRow {
  reference: string;
  outcome: 'dispatched' | 'failed';
  tracking_number: string;
  failure_reason: string | null;
  answer_at: Date;
  cancelled_at: Date | null;
}

const digits = (random: () => number, n: number) => Array.from({ length: n }, () => Math.floor(random() * 10)).join('');

export function createSimulatedCarrier(opts: SimulatedCarrierOptions): Carrier {
  const { pool, clock } = opts;
  const random = opts.random ?? Math.random;
  if (!(opts.failureRate >= 0 && opts.failureRate <= 1)) throw new RangeError(`failureRate must be in [0, 1], got ${opts.failureRate}`);
  if (!(opts.delayMs >= 0)) throw new RangeError(`delayMs must be >= 0, got ${opts.delayMs}`);

  const booking = (row: Pick<ParcelRow, 'reference' | 'answer_at'>): CarrierBooking => ({
    carrier: SIMULATED_CARRIER,
    reference: row.reference,
    answer_expected_at: row.answer_at.toISOString(),
  });

  const parcel = async (reference: string): Promise<ParcelRow> => {
    const { rows } = await pool.query<ParcelRow>(
      'SELECT reference, outcome, tracking_number, failure_reason, answer_at, cancelled_at FROM simulated_carrier_parcels WHERE reference = $1',
      [reference],
    );
    if (!rows[0]) throw new Error(`simulated carrier: no parcel with reference ${reference}`);
    return rows[0];
  };

  return {
    name: SIMULATED_CARRIER,

    async book(request: ShipmentRequest) {
      const now = clock();
      const failed = random() < opts.failureRate;
      const reason = SIMULATED_FAILURE_REASONS[Math.floor(random() * SIMULATED_FAILURE_REASONS.length)] ?? SIMULATED_FAILURE_REASONS[0];
      // DO NOTHING then read: a second booking of the same shipment returns the first one, fate included.
      await pool.query(
        `INSERT INTO simulated_carrier_parcels (shipment_id, reference, order_id, outcome, tracking_number, failure_reason, booked_at, answer_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (shipment_id) DO NOTHING`,
        [
          request.shipment_id,
          // The booking number follows from the shipment: unique as the shipment is, whatever the draws.
          `SIM-${createHash('sha256').update(request.shipment_id).digest('hex').slice(0, 16).toUpperCase()}`,
          request.order_id,
          failed ? 'failed' : 'dispatched',
          `SIM${digits(random, 4)}-${digits(random, 4)}-${digits(random, 4)}`,
          failed ? reason : null,
          now.toISOString(),
          new Date(now.getTime() + opts.delayMs).toISOString(),
        ],
      );
      const { rows } = await pool.query<ParcelRow>('SELECT reference, answer_at FROM simulated_carrier_parcels WHERE shipment_id = $1', [
        request.shipment_id,
      ]);
      return booking(rows[0]!);
    },

    async answer({ reference }): Promise<CarrierAnswer> {
      const row = await parcel(reference);
      if (row.cancelled_at) return { status: 'failed', reason: '出荷元の依頼により集荷を取り消しました' };
      if (clock().getTime() < row.answer_at.getTime()) return { status: 'pending', retry_at: row.answer_at.toISOString() };
      return row.outcome === 'dispatched'
        ? { status: 'dispatched', tracking_number: row.tracking_number }
        : { status: 'failed', reason: row.failure_reason ?? SIMULATED_FAILURE_REASONS[0] };
    },

    async cancel({ reference }) {
      await pool.query('UPDATE simulated_carrier_parcels SET cancelled_at = COALESCE(cancelled_at, $2) WHERE reference = $1', [
        reference,
        clock().toISOString(),
      ]);
    },
  };
}
