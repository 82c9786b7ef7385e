import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useApi, useVersions } from '../../api/context.tsx';
import { useQueries } from '@tanstack/react-query';
import { useInventory, useProducts } from '../../api/queries.ts';
import type { Inventory, StockAdded } from '../../api/types.ts';
import { Pager, ProblemText, QueryView, useCursorPager } from '../../components/ui.tsx';
import { dateTime, num, shortId } from '../../lib/format.ts';

function AddStock({ row }: { row: Inventory }) {
  const api = useApi();
  const versions = useVersions();
  const queryClient = useQueryClient();
  const [quantity, setQuantity] = useState('');
  const add = useMutation({
    mutationFn: () =>
      api.post<StockAdded>(`/inventory/${row.product_id}/add_stock`, { quantity: quantity.trim() === '' ? Number.NaN : Number(quantity) }),
    onSuccess: (answer) => {
      setQuantity('');
      versions.note(`inventory-${answer.product_id}`, answer.version);
      void queryClient.invalidateQueries({ queryKey: ['inventory'] });
    },
  });
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    add.mutate();
  };
  const id = `add-stock-${row.product_id}`;
  const name = row.name ?? row.product_id;
  return (
    <form className="add-stock" onSubmit={onSubmit}>
      <label htmlFor={id} className="sr-only">
        {name} の入荷数
      </label>
      <input
        id={id}
        className="qty"
        type="number"
        min={1}
        step={1}
        inputMode="numeric"
        placeholder="数量"
        value={quantity}
        onChange={(e) => setQuantity(e.target.value)}
      />
      <button type="submit" disabled={add.isPending} aria-label={`${name} を入荷`}>
        入荷
      </button>
      <ProblemText error={add.error} />
    </form>
  );
}

function InventoryTable({ rows }: { rows: Inventory[] }) {
  return (
    <div className="table-wrap">
      <table className="inventory stack-narrow">
        <caption className="sr-only">在庫</caption>
        <thead>
          <tr>
            <th scope="col">商品</th>
            <th scope="col" className="num">
              総数
            </th>
            <th scope="col" className="num">
              引当済
            </th>
            <th scope="col" className="num">
              利用可能
            </th>
            <th scope="col">引当（注文・数量・期限）</th>
            <th scope="col">入荷</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.product_id} data-product-id={row.product_id}>
              <th scope="row" data-label="商品">
                <Link to={`/events/inventory-${row.product_id}`}>{row.name ?? row.product_id}</Link>
              </th>
              <td className="num" data-label="総数">
                {num(row.total_quantity)}
              </td>
              <td className="num" data-label="引当済">
                {num(row.reserved_quantity)}
              </td>
              <td className="num" data-label="利用可能">
                {num(row.available_quantity)}
              </td>
              <td data-label="引当">
                {row.reservations.length === 0 ? (
                  <span className="muted">—</span>
                ) : (
                  <ul className="plain reservations">
                    {row.reservations.map((r) => (
                      <li key={r.reservation_id}>
                        <Link to={`/orders/${r.order_id}`} aria-label={`注文 ${r.order_id}`}>
                          <code>{shortId(r.order_id)}</code>
                        </Link>{' '}
                        × {r.quantity} <span className="muted">〜{dateTime(r.expires_at)}</span>
                      </li>
                    ))}
                  </ul>
                )}
              </td>
              <td data-label="入荷">
                <AddStock row={row} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** GET /inventory pages by product id; to find one product, search the catalogue and read its stock. */
function SearchedInventory({ q }: { q: string }) {
  const api = useApi();
  const versions = useVersions();
  const products = useProducts({ q, limit: 20 });
  const rows = useQueries({
    queries: (products.data?.items ?? []).map((p) => ({
      queryKey: ['inventory', 'product', p.id],
      queryFn: ({ signal }: { signal: AbortSignal }) =>
        api.get<Inventory>(`/inventory/${p.id}${versions.param(`inventory-${p.id}`)}`, { signal }),
      retry: false,
    })),
  });
  return (
    <QueryView query={products}>
      {() => {
        const found = rows.flatMap((r) => (r.data ? [r.data] : []));
        return found.length === 0 ? <p className="muted">「{q}」に合う在庫はありません。</p> : <InventoryTable rows={found} />;
      }}
    </QueryView>
  );
}

export function AdminInventory() {
  const pager = useCursorPager();
  const [q, setQ] = useState('');
  const inventory = useInventory(pager.cursor);
  return (
    <section className="card" aria-labelledby="inventory-title">
      <h2 id="inventory-title">在庫と引当</h2>
      <p className="muted">引当（予約）は注文時に作られ、支払いで確定、キャンセルか支払期限切れで解除されます。</p>
      <div className="toolbar">
        <label htmlFor="inventory-filter">商品名で絞り込み</label>
        <input id="inventory-filter" type="search" value={q} onChange={(e) => setQ(e.target.value)} />
      </div>
      {q.trim() ? (
        <SearchedInventory q={q.trim()} />
      ) : (
        <QueryView query={inventory}>
          {(page) => (
            <>
              <InventoryTable rows={page.items} />
              {page.items.length === 0 && <p className="muted">在庫のある商品はまだありません。</p>}
              <Pager pager={pager} nextCursor={page.next_cursor} label="在庫" />
            </>
          )}
        </QueryView>
      )}
    </section>
  );
}
