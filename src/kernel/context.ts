/** What command handlers need besides the streams: a clock (decisions take time from outside) and an id source. */
export interface AppContext {
  clock: () => Date;
  newId: () => string;
}
