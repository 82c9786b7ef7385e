export * from './events.ts';
export { cartDecider, findLine } from './decider.ts';
export type { CartCommand, CartLine, CartState } from './decider.ts';
