import { Link } from 'react-router';
import { useOrders } from '../api/queries.ts';
import { OrderStatusBadge, Pager, QueryView, useCursorPager } from '../components/ui.tsx';
import { dateTime, num, shortId, yen } from '../lib/format.ts';

export function OrdersPage() {
  const pager = useCursorPager();
  const orders = useOrders({ mine: true, ...(pager.cursor ? { cursor: pager.cursor } : {}) });
  return (
    <section aria-labelledby="orders-title">
      <h1 id="orders-title">注文履歴</h1>
      <p className="muted">状態はライブで更新されます（支払い・発送・キャンセルの反映にリロードは不要です）。</p>
      <QueryView query={orders} what="注文を読み込み中">
        {(page) =>
          page.items.length === 0 ? (
            <p className="muted">
              まだ注文がありません。<Link to="/products">商品を探す</Link>
            </p>
          ) : (
            <>
              <div className="table-wrap">
                <table className="stack-narrow">
                  <caption className="sr-only">注文</caption>
                  <thead>
                    <tr>
                      <th scope="col">注文番号</th>
                      <th scope="col">日時</th>
                      <th scope="col">商品数</th>
                      <th scope="col" className="num">
                        合計
                      </th>
                      <th scope="col">状態</th>
                      <th scope="col">支払期限 / 追跡番号 / 返金</th>
                    </tr>
                  </thead>
                  <tbody>
                    {page.items.map((o) => (
                      <tr key={o.order_id} data-order-id={o.order_id}>
                        <th scope="row" data-label="注文番号" className="nowrap">
                          <Link to={`/orders/${o.order_id}`} aria-label={`注文 ${o.order_id}`}>
                            <code>{shortId(o.order_id)}</code>
                          </Link>
                        </th>
                        <td data-label="日時">{dateTime(o.placed_at)}</td>
                        <td data-label="商品数">{num(o.items.reduce((n, i) => n + i.quantity, 0))} 点</td>
                        <td data-label="合計" className="num">
                          {yen(o.total)}
                        </td>
                        <td data-label="状態">
                          <OrderStatusBadge status={o.status} />
                        </td>
                        <td data-label={o.status === 'pending' ? '支払期限' : o.refunded_amount !== null ? '返金' : '追跡番号'}>
                          {o.status === 'pending'
                            ? dateTime(o.expires_at)
                            : o.refunded_amount !== null
                              ? `${yen(o.refunded_amount)} 返金済み`
                              : (o.tracking_number ?? '—')}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <Pager pager={pager} nextCursor={page.next_cursor} label="注文履歴" />
            </>
          )
        }
      </QueryView>
    </section>
  );
}
