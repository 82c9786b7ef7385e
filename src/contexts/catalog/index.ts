export * from './events.ts';
export {
  categoryDecider,
  categoryNameClaimDecider,
  categoryNameClaimStreamId,
  legacyCategoryNameClaimStreamId,
} from './category-decider.ts';
export type { CategoryState } from './category-decider.ts';
export { productDecider } from './product-decider.ts';
export type { ProductState } from './product-decider.ts';
