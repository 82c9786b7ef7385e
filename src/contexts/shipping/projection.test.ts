import { test } from 'node:test';
import { shipments } from './projection.ts';
import { envelope, given } from '../../../test/support/projection.ts';

const s = (type: string, data: Record<string, unknown>, v: number) => ({
  ...envelope(type, data, v, 'shipment-o1'),
  created_at: `2025-01-15T09:0${v}:00.000Z`,
});

test('an outcome as the first event still makes a whole row; ids and times come from the envelope when absent', () => {
  given(shipments, [])
    .when(s('ShipmentFailed', { reason: 'lost' }, 1))
    .then({
      shipment_id: 'shipment-o1',
      order_id: 'o1',
      status: 'failed',
      reason: 'lost',
      failed_at: '2025-01-15T09:01:00.000Z',
      initiated_at: null,
    });
});

test('the hand-over to a carrier keeps the shipment initiated; dispatch completes it', () => {
  const history = [s('ShipmentInitiated', {}, 1), s('ShipmentRequested', { carrier: 'sim', carrier_reference: 'R1' }, 2)];
  given(shipments, history.slice(0, 1)).when(history[1]!).then({ status: 'initiated', carrier: 'sim', carrier_reference: 'R1' });
  given(shipments, history)
    .when(s('ShipmentCompleted', { tracking_number: 'T1', dispatched_by: 'carrier' }, 3))
    .then({
      status: 'completed',
      tracking_number: 'T1',
      dispatched_by: 'carrier',
      carrier: 'sim',
      initiated_at: '2025-01-15T09:01:00.000Z',
      version: 3,
    });
});
