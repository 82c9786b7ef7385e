import { Link, useParams } from 'react-router';
import { useSession } from '../api/context.tsx';
import { useProduct } from '../api/queries.ts';
import { AddToCart } from '../components/AddToCart.tsx';
import { QueryView } from '../components/ui.tsx';
import { dateTime, num, yen } from '../lib/format.ts';

export function ProductPage() {
  const { id = '' } = useParams();
  const product = useProduct(id);
  const session = useSession();
  return (
    <section>
      <p>
        <Link to="/products">← 商品一覧</Link>
      </p>
      <QueryView query={product} what="商品を読み込み中">
        {(p) => (
          <article className="card product-detail" aria-labelledby="product-title">
            <h1 id="product-title">{p.name}</h1>
            {p.category_name && <span className="chip">{p.category_name}</span>}
            <p className="description">{p.description || '説明はありません。'}</p>
            <p className="price big">{yen(p.price)}</p>
            <dl className="facts">
              <dt>購入できる数</dt>
              <dd>{p.available_quantity > 0 ? num(p.available_quantity) : '在庫切れ'}</dd>
              <dt>登録日時</dt>
              <dd>{dateTime(p.created_at)}</dd>
            </dl>
            <AddToCart product={p} />
            {session?.user.role === 'admin' && (
              <p className="links">
                <Link to={`/events/${p.id}`}>商品のイベントストリーム</Link> ·{' '}
                <Link to={`/events/inventory-${p.id}`}>在庫のイベントストリーム</Link>
              </p>
            )}
          </article>
        )}
      </QueryView>
    </section>
  );
}
