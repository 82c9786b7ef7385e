import type { KnownEvent, KnownEventType } from './contracts.ts';

/**
 * A projection that keeps the rows of one table. The engine (engine.ts), per batch: collects the keys the
 * batch's events touch (`keyOf`), loads those rows with one query, folds the events through the pure `evolve`
 * in stream order, and writes the rows that changed back with one multi-row upsert. `evolve` never sees a
 * duplicate or an out-of-order event: the engine applies each stream in version order under its lock.
 *
 * Rows are plain JSON (what `row_to_json` gives: timestamps as ISO strings, jsonb as values, numbers), so a fold
 * is testable without a database and a row read back equals the row written.
 */
export interface TableProjection<Row = unknown> {
  readonly name: string;
  /** Unqualified, so it resolves through search_path (a rebuild may target another schema). */
  readonly table: string;
  /** The primary-key column; `keyOf` gives its value. */
  readonly key: Row extends object ? keyof Row & string : string;
  /** The columns written (everything but generated columns). */
  readonly columns: ReadonlyArray<Row extends object ? keyof Row & string : string>;
  readonly eventTypes: readonly KnownEventType[];
  /** The row an event is about, or undefined if it is about none. */
  keyOf(event: KnownEvent): string | undefined;
  /** Pure: the row after the event (undefined: there is still no row, e.g. an update of a row never created). */
  evolve(row: Row | undefined, event: KnownEvent): Row | undefined;
}

/** A projection of some row type, for lists of projections (the engine only passes rows back to their own evolve). */
export const anyRow = <Row>(p: TableProjection<Row>): TableProjection => p as unknown as TableProjection;
