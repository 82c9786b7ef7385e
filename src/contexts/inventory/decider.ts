import type { Decider } from '../../platform/shared/decider.ts';
import { conflict } from '../../platform/shared/errors.ts';
import { ensure, id, instantMs, intInRange, isoInstant, nowMs, oneOf } from '../../platform/shared/validate.ts';
import type { InventoryEvent, ReleaseReason, ReturnReason } from './events.ts';
import { MAX_RESERVATION_QUANTITY, MAX_STOCK_ADD, RELEASE_REASONS, RETURN_REASONS } from './events.ts';

export type InventoryCommand =
  | { type: 'AddStock'; product_id: string; quantity: number; now: string }
  | {
      type: 'ReserveStock';
      product_id: string;
      reservation_id: string;
      order_id: string;
      quantity: number;
      expires_at: string;
      now: string;
    }
  | { type: 'ConfirmReservation'; product_id: string; order_id: string; now: string }
  | { type: 'ReleaseReservation'; product_id: string; order_id: string; reason: ReleaseReason; now: string }
  /**
   * Goods of a paid order come back (cancelled before dispatch, or the shipment failed). Not guarded by this
   * stream's memory of closed reservations, which forgets after CLOSED_RESERVATION_MEMORY orders: the order
   * stream, written in the same transaction, is what allows a return only once (paid → cancelled or
   * shipment_failed happens once).
   */
  | { type: 'ReturnStock'; product_id: string; order_id: string; quantity: number; reason: ReturnReason; now: string };

export type Reservation = {
  reservation_id: string;
  order_id: string;
  quantity: number;
  expires_at: string;
  reserved_at: string;
};

export type ClosedReservation = {
  reservation_id: string;
  order_id: string;
  quantity: number;
  outcome: 'deducted' | 'released';
};

/**
 * Arrays rather than id-keyed objects: JSON-natural (GET /inventory shows `reservations[]`), ordered, and free
 * of prototype-key pitfalls. Lookups are linear; open reservations of one product are few (they last minutes).
 */
export type InventoryState = {
  product_id: string | null;
  total_quantity: number;
  reserved_quantity: number;
  /** total - reserved; kept in state so a folded state (time travel) reads like the API. */
  available_quantity: number;
  /** Open reservations, oldest first. */
  reservations: Reservation[];
  /**
   * The last CLOSED_RESERVATION_MEMORY confirmed or released reservations, oldest first. They make confirm and
   * release idempotent ("already done" → no events) without the state, and so the snapshot, growing with
   * every order the product ever had. A retry older than this window is answered 'reservation_not_found'.
   */
  recently_closed: ClosedReservation[];
};

export const CLOSED_RESERVATION_MEMORY = 256;

export const findReservationByOrder = (state: InventoryState, orderId: string): Reservation | undefined =>
  state.reservations.find((r) => r.order_id === orderId);

export const findClosedByOrder = (state: InventoryState, orderId: string): ClosedReservation | undefined =>
  state.recently_closed.findLast((r) => r.order_id === orderId);

export const insufficientStock = (productId: string, available: number, requested: number) =>
  conflict('insufficient_stock', `insufficient stock: available=${available}, requested=${requested}`, {
    product_id: productId,
    available,
    requested,
  });

const decideReserve = (c: Extract<InventoryCommand, { type: 'ReserveStock' }>, state: InventoryState): InventoryEvent[] => {
  ensure(
    id('product_id', c.product_id),
    id('reservation_id', c.reservation_id),
    id('order_id', c.order_id),
    intInRange('quantity', c.quantity, 1, MAX_RESERVATION_QUANTITY),
    isoInstant('expires_at', c.expires_at),
  );
  if (instantMs(c.expires_at) <= nowMs(c.now)) ensure({ field: 'expires_at', message: 'must be after now' });
  const taken = (r: { reservation_id: string; order_id: string }) => r.reservation_id === c.reservation_id || r.order_id === c.order_id;
  if (state.reservations.some(taken) || state.recently_closed.some(taken)) {
    throw conflict('reservation_exists', `order ${c.order_id} already has a reservation for product ${c.product_id}`);
  }
  if (c.quantity > state.available_quantity) throw insufficientStock(c.product_id, state.available_quantity, c.quantity);
  const { product_id, reservation_id, order_id, quantity, expires_at, now } = c;
  return [{ type: 'StockReserved', data: { product_id, reservation_id, order_id, quantity, expires_at, reserved_at: now } }];
};

const decideConfirm = (c: Extract<InventoryCommand, { type: 'ConfirmReservation' }>, state: InventoryState): InventoryEvent[] => {
  ensure(id('product_id', c.product_id), id('order_id', c.order_id));
  nowMs(c.now);
  const open = findReservationByOrder(state, c.order_id);
  if (open) {
    const { reservation_id, order_id, quantity } = open;
    return [{ type: 'StockDeducted', data: { product_id: c.product_id, reservation_id, order_id, quantity, deducted_at: c.now } }];
  }
  const closed = findClosedByOrder(state, c.order_id);
  if (closed?.outcome === 'deducted') return [];
  if (closed?.outcome === 'released') {
    throw conflict('reservation_released', `the reservation of order ${c.order_id} was released and cannot be confirmed`, {
      product_id: c.product_id,
      order_id: c.order_id,
    });
  }
  throw conflict('reservation_not_found', `no reservation of order ${c.order_id} for product ${c.product_id}`, {
    product_id: c.product_id,
    order_id: c.order_id,
  });
};

const decideRelease = (c: Extract<InventoryCommand, { type: 'ReleaseReservation' }>, state: InventoryState): InventoryEvent[] => {
  ensure(id('product_id', c.product_id), id('order_id', c.order_id), oneOf('reason', c.reason, RELEASE_REASONS));
  const now = nowMs(c.now);
  const open = findReservationByOrder(state, c.order_id);
  if (!open) {
    if (findClosedByOrder(state, c.order_id)) return []; // already released or confirmed: nothing left to give back
    throw conflict('reservation_not_found', `no reservation of order ${c.order_id} for product ${c.product_id}`, {
      product_id: c.product_id,
      order_id: c.order_id,
    });
  }
  // Guards the expiry timer: a live hold is never released as "expired" (it would sell stock a buyer holds).
  if (c.reason === 'expired' && now < instantMs(open.expires_at)) {
    throw conflict('reservation_not_expired', `the reservation of order ${c.order_id} expires at ${open.expires_at}`);
  }
  const { reservation_id, order_id, quantity } = open;
  return [
    {
      type: 'StockReleased',
      data: { product_id: c.product_id, reservation_id, order_id, quantity, reason: c.reason, released_at: c.now },
    },
  ];
};

const close = (state: InventoryState, reservationId: string, outcome: ClosedReservation['outcome']) => {
  const closing = state.reservations.find((r) => r.reservation_id === reservationId);
  const reservations = state.reservations.filter((r) => r.reservation_id !== reservationId);
  const recently_closed = closing
    ? [
        ...state.recently_closed.slice(-(CLOSED_RESERVATION_MEMORY - 1)),
        { reservation_id: closing.reservation_id, order_id: closing.order_id, quantity: closing.quantity, outcome },
      ]
    : state.recently_closed;
  return { reservations, recently_closed };
};

export const inventoryDecider: Decider<InventoryCommand, InventoryState, InventoryEvent> = {
  initialState: () => ({
    product_id: null,
    total_quantity: 0,
    reserved_quantity: 0,
    available_quantity: 0,
    reservations: [],
    recently_closed: [],
  }),

  decide: (command, state) => {
    switch (command.type) {
      case 'AddStock': {
        ensure(id('product_id', command.product_id), intInRange('quantity', command.quantity, 1, MAX_STOCK_ADD));
        nowMs(command.now);
        const { product_id, quantity, now } = command;
        return [{ type: 'StockAdded', data: { product_id, quantity, added_at: now } }];
      }
      case 'ReserveStock':
        return decideReserve(command, state);
      case 'ConfirmReservation':
        return decideConfirm(command, state);
      case 'ReleaseReservation':
        return decideRelease(command, state);
      case 'ReturnStock': {
        ensure(
          id('product_id', command.product_id),
          id('order_id', command.order_id),
          intInRange('quantity', command.quantity, 1, MAX_RESERVATION_QUANTITY),
          oneOf('reason', command.reason, RETURN_REASONS),
        );
        nowMs(command.now);
        const { product_id, order_id, quantity, reason, now } = command;
        return [{ type: 'StockReturned', data: { product_id, order_id, quantity, reason, returned_at: now } }];
      }
    }
  },

  evolve: (state, event) => {
    const product_id = event.data.product_id;
    switch (event.type) {
      case 'StockAdded':
      case 'StockReturned': {
        const total_quantity = state.total_quantity + event.data.quantity;
        return { ...state, product_id, total_quantity, available_quantity: total_quantity - state.reserved_quantity };
      }
      case 'StockReserved': {
        const { reservation_id, order_id, quantity, expires_at, reserved_at } = event.data;
        const reserved_quantity = state.reserved_quantity + quantity;
        return {
          ...state,
          product_id,
          reserved_quantity,
          available_quantity: state.total_quantity - reserved_quantity,
          reservations: [...state.reservations, { reservation_id, order_id, quantity, expires_at, reserved_at }],
        };
      }
      case 'StockDeducted': {
        const total_quantity = state.total_quantity - event.data.quantity;
        const reserved_quantity = state.reserved_quantity - event.data.quantity;
        return {
          ...state,
          ...close(state, event.data.reservation_id, 'deducted'),
          product_id,
          total_quantity,
          reserved_quantity,
          available_quantity: total_quantity - reserved_quantity,
        };
      }
      case 'StockReleased': {
        const reserved_quantity = state.reserved_quantity - event.data.quantity;
        return {
          ...state,
          ...close(state, event.data.reservation_id, 'released'),
          product_id,
          reserved_quantity,
          available_quantity: state.total_quantity - reserved_quantity,
        };
      }
    }
  },
};
