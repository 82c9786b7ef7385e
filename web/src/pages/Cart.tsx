import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { isApiError } from '../api/client.ts';
import { useApi, useVersions } from '../api/context.tsx';
import { cartStreamId, useCart } from '../api/queries.ts';
import type { CartChanged, LineItem, OrderPlaced } from '../api/types.ts';
import { ProblemText, QueryView } from '../components/ui.tsx';
import { num, yen } from '../lib/format.ts';

function CartLine({ line, checkoutError }: { line: LineItem; checkoutError: unknown }) {
  const api = useApi();
  const versions = useVersions();
  const queryClient = useQueryClient();
  const [quantity, setQuantity] = useState(line.quantity);
  const done = (answer: CartChanged) => {
    versions.note(cartStreamId(answer.user_id), answer.version);
    return queryClient.invalidateQueries({ queryKey: ['cart'] });
  };
  // The api adds to a line or removes it: a smaller quantity is the line removed and added again.
  const change = useMutation({
    mutationFn: async () => {
      if (quantity > line.quantity)
        return api.post<CartChanged>('/cart/items', { product_id: line.product_id, quantity: quantity - line.quantity });
      await api.del<CartChanged>(`/cart/items/${line.product_id}`);
      return api.post<CartChanged>('/cart/items', { product_id: line.product_id, quantity });
    },
    onSuccess: done,
    onError: () => void queryClient.invalidateQueries({ queryKey: ['cart'] }),
  });
  const remove = useMutation({ mutationFn: () => api.del<CartChanged>(`/cart/items/${line.product_id}`), onSuccess: done });
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (quantity !== line.quantity) change.mutate();
  };
  // A checkout refused for this product (insufficient stock) is shown on its line, not at the top.
  const lineProblem = isApiError(checkoutError) && checkoutError.problem.product_id === line.product_id ? checkoutError : undefined;
  const qtyId = `cart-qty-${line.product_id}`;
  return (
    <tr className={lineProblem ? 'has-problem' : undefined}>
      <th scope="row">
        <Link to={`/products/${line.product_id}`}>{line.name}</Link>
        <ProblemText error={lineProblem ?? change.error ?? remove.error} />
      </th>
      <td className="num" data-label="単価">
        {yen(line.price)}
      </td>
      <td>
        <form className="qty-form" onSubmit={onSubmit}>
          <label htmlFor={qtyId} className="sr-only">
            {line.name} の数量
          </label>
          <input
            id={qtyId}
            className="qty"
            type="number"
            min={1}
            max={99}
            value={quantity}
            onChange={(e) => setQuantity(Math.max(1, Math.floor(Number(e.target.value) || 1)))}
          />
          <button
            type="submit"
            className="secondary"
            disabled={change.isPending || quantity === line.quantity}
            aria-label={`${line.name} の数量を変更`}
          >
            変更
          </button>
        </form>
      </td>
      <td className="num" data-label="小計">
        {yen(line.subtotal)}
      </td>
      <td>
        <button
          type="button"
          className="danger"
          onClick={() => remove.mutate()}
          disabled={remove.isPending}
          aria-label={`${line.name} を削除`}
        >
          削除
        </button>
      </td>
    </tr>
  );
}

export function CartPage() {
  const api = useApi();
  const versions = useVersions();
  const cart = useCart();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const checkout = useMutation({
    mutationFn: () => api.post<OrderPlaced>('/orders'),
    onSuccess: (order) => {
      versions.note(order.order_id, order.version);
      void queryClient.invalidateQueries({ queryKey: ['cart'] });
      void queryClient.invalidateQueries({ queryKey: ['orders'] });
      navigate(`/orders/${order.order_id}`);
    },
    onError: () => void queryClient.invalidateQueries({ queryKey: ['cart'] }),
  });
  const generalProblem = isApiError(checkout.error) && checkout.error.problem.product_id ? undefined : checkout.error;

  return (
    <section aria-labelledby="cart-title">
      <h1 id="cart-title">カート</h1>
      <QueryView query={cart} what="カートを読み込み中">
        {(c) =>
          c.items.length === 0 ? (
            <p className="muted">
              カートは空です。<Link to="/products">商品を探す</Link>
            </p>
          ) : (
            <>
              <div className="table-wrap">
                <table className="cart">
                  <caption className="sr-only">カートの商品</caption>
                  <thead>
                    <tr>
                      <th scope="col">商品</th>
                      <th scope="col" className="num">
                        単価
                      </th>
                      <th scope="col">数量</th>
                      <th scope="col" className="num">
                        小計
                      </th>
                      <th scope="col">
                        <span className="sr-only">操作</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {c.items.map((line) => (
                      <CartLine key={`${line.product_id}:${line.quantity}`} line={line} checkoutError={checkout.error} />
                    ))}
                  </tbody>
                  <tfoot>
                    <tr>
                      <th scope="row" colSpan={3}>
                        合計（{num(c.item_count)} 点）
                      </th>
                      <td className="num total" data-testid="cart-total">
                        {yen(c.total)}
                      </td>
                      <td />
                    </tr>
                  </tfoot>
                </table>
              </div>
              <div className="actions">
                <button type="button" onClick={() => checkout.mutate()} disabled={checkout.isPending}>
                  {checkout.isPending ? '注文中…' : '注文を確定する'}
                </button>
                <span className="muted">在庫は注文時に確保され、支払期限までに支払うと確定します。</span>
              </div>
              <ProblemText error={generalProblem} />
            </>
          )
        }
      </QueryView>
    </section>
  );
}
