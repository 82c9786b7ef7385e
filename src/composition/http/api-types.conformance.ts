/**
 * Compile-time proof that what the api answers is what src/composition/http/api-types.ts (and so the SPA) says it answers.
 * Type-level only: nothing here runs. A query's view renamed or retyped without updating the shared types is a
 * `make typecheck` error on this file.
 */
import type { Registered } from './api-types.ts';
import type * as Api from './api-types.ts';
import type { TokenPair } from '../../platform/http/auth.ts';
import type { ReadQueries } from '../queries.ts';
import type { LagReport } from '../../platform/messaging/lag.ts';
import type { UserHandlers } from '../../contexts/users/handlers.ts';
import type { LiveChange } from '../../platform/readmodel/live.ts';
import type { AddItemBody } from '../../contexts/carts/routes.ts';
import type { CategoryBody, CreateProductBody, UpdateProductBody } from '../../contexts/catalog/routes.ts';
import type { AddStockBody } from '../../contexts/inventory/routes.ts';
import type { CancelBody, ShipBody } from '../../contexts/orders/routes.ts';
import type { LoginBody, RefreshTokenBody, RegisterBody } from '../../contexts/users/routes.ts';

type Answer<K extends keyof ReadQueries> = Awaited<ReturnType<ReadQueries[K]>>;
/** Both ways assignable: the server may neither drop a field the SPA reads nor add one the types do not name. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;

export type ApiConformance = [
  Assert<Same<TokenPair, Api.TokenPair>>,
  Assert<Same<NonNullable<Awaited<ReturnType<UserHandlers['get']>>>, Registered>>,
  Assert<Same<NonNullable<Answer<'getProduct'>>, Api.Product>>,
  Assert<Same<Answer<'listProducts'>, Api.Page<Api.Product>>>,
  Assert<Same<Answer<'listCategories'>, Api.Category[]>>,
  Assert<Same<NonNullable<Answer<'getInventory'>>, Api.Inventory>>,
  Assert<Same<Answer<'listInventory'>, Api.Page<Api.Inventory>>>,
  Assert<Same<Answer<'getCart'>, Api.Cart>>,
  Assert<Same<NonNullable<Answer<'getOrder'>>, Api.Order>>,
  Assert<Same<Answer<'orderStatistics'>, Api.OrderStatistics>>,
  Assert<Same<Answer<'marketingOverview'>, Api.MarketingOverview>>,
  Assert<Same<Answer<'marketingCustomers'>, Api.CustomerValue[]>>,
  Assert<Same<Answer<'marketingProducts'>, Api.ProductPopularity[]>>,
  Assert<Same<Answer<'marketingDaily'>, Api.DailySales[]>>,
  Assert<Same<LagReport, Api.LagReport>>,
  Assert<Same<Omit<LiveChange, 'owner'>, Api.LiveChange>>,
  Assert<Same<Answer<'listEvents'>, Api.EventPage>>,
  Assert<Same<Answer<'listSagas'>, Api.SagaPage>>,
  Assert<Same<NonNullable<Answer<'getSaga'>>, Api.Saga>>,
];

/** The request bodies: what the routes' validators accept is what the shared types say a client may send. */
export type RequestConformance = [
  Assert<Same<RegisterBody, Api.RegisterRequest>>,
  Assert<Same<LoginBody, Api.LoginRequest>>,
  Assert<Same<RefreshTokenBody, Api.RefreshRequest>>,
  Assert<Same<RefreshTokenBody, Api.LogoutRequest>>,
  Assert<Same<CategoryBody, Api.CreateCategoryRequest>>,
  Assert<Same<CreateProductBody, Api.CreateProductRequest>>,
  Assert<Same<UpdateProductBody, Api.UpdateProductRequest>>,
  Assert<Same<AddStockBody, Api.AddStockRequest>>,
  Assert<Same<AddItemBody, Api.AddCartItemRequest>>,
  Assert<Same<CancelBody, Api.CancelOrderRequest>>,
  Assert<Same<ShipBody, Api.ShipOrderRequest>>,
];
