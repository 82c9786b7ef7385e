/**
 * The decider shape every aggregate follows (as in emmett and Jérémie Chassaing's deciders): pure `decide` and `evolve`, with time and ids
 * passed in through the command. Domain code throws AppError (src/platform/shared/errors.ts) for illegal commands.
 */
export interface DomainEvent<T extends string = string, D = unknown> {
  type: T;
  data: D;
}

export interface Decider<Command, State, Event extends DomainEvent> {
  initialState: () => State;
  decide: (command: Command, state: State) => Event[];
  evolve: (state: State, event: Event) => State;
}

/** Folds a history into a state; used to rebuild an aggregate from its stream (or a snapshot + tail). */
export const fold = <State, Event extends DomainEvent>(
  decider: Pick<Decider<never, State, Event>, 'evolve'>,
  state: State,
  events: readonly Event[],
): State => events.reduce(decider.evolve, state);
