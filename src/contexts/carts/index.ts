export * from './events.ts';
export { cartDecider } from './decider.ts';
export type { CartLine, CartState } from './decider.ts';
