export * from './events.ts';
export {
  categoryDecider,
  categoryNameClaimDecider,
  categoryNameClaimStreamId,
  categoryNameKey,
  legacyCategoryNameClaimStreamId,
} from './category-decider.ts';
export type { CategoryCommand, CategoryState, CategoryNameClaimCommand, CategoryNameClaimState } from './category-decider.ts';
export { productDecider, isAvailable } from './product-decider.ts';
export type { ActiveProduct, ProductCommand, ProductState, ProductView } from './product-decider.ts';
