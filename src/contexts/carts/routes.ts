import { Hono } from 'hono';
import { z } from 'zod';
import { cartStreamId } from './index.ts';
import { ID_PATTERN } from '../../platform/shared/validate.ts';
import { requireUser, type AuthEnv } from '../../platform/http/auth.ts';
import { runCommand } from '../../kernel/command.ts';
import type { HttpDeps } from '../../kernel/deps.ts';
import { entityId, entityIdParam } from '../../platform/http/params.ts';
import { parseBody, parseNoBody } from '../../platform/http/validate.ts';

const AddItem = z.object({
  product_id: z.string().regex(ID_PATTERN, 'must be a product id'),
  quantity: z.number().int('must be an integer').default(1),
});
/** The request body as a client may send it (checked against the SPA's types in api-types.conformance.ts). */
export type AddItemBody = z.input<typeof AddItem>;

/** The cart is always the caller's own: there is no path to anyone else's. */
export function cartRoutes(deps: HttpDeps) {
  const { carts, executor } = deps.app;
  return new Hono<AuthEnv>()
    .post('/cart/items', async (c) => {
      const user = requireUser(c);
      const body = await parseBody(c, AddItem);
      return runCommand(
        c,
        executor,
        carts.addItem,
        { user_id: user.user_id, product_id: entityId(body.product_id, 'product'), quantity: body.quantity },
        201,
      );
    })
    .delete('/cart/items/:product_id', async (c) => {
      const user = requireUser(c);
      const productId = entityIdParam(c, 'product_id', 'product');
      await parseNoBody(c);
      return runCommand(c, executor, carts.removeItem, { user_id: user.user_id, product_id: productId }, 200);
    })
    .delete('/cart', async (c) => {
      const user = requireUser(c);
      await parseNoBody(c);
      return runCommand(c, executor, carts.clear, { user_id: user.user_id }, 200);
    })
    .get('/cart', async (c) => {
      const user = requireUser(c);
      await deps.waits.forVersion(c, cartStreamId(user.user_id));
      return c.json(await deps.queries.getCart(user.user_id));
    });
}
