import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useCategories, useProducts } from '../api/queries.ts';
import { AddToCart } from '../components/AddToCart.tsx';
import { Pager, QueryView, useCursorPager } from '../components/ui.tsx';
import { num, yen } from '../lib/format.ts';

function SearchForm({
  q,
  category,
  onSearch,
  onCategory,
}: {
  q: string;
  category: string;
  onSearch: (q: string) => void;
  onCategory: (c: string) => void;
}) {
  const [text, setText] = useState(q);
  const categories = useCategories();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSearch(text.trim());
  };
  return (
    <form className="toolbar" role="search" onSubmit={submit}>
      <label htmlFor="product-search" className="sr-only">
        商品を検索
      </label>
      <input
        id="product-search"
        type="search"
        placeholder="キーワード（日本語・英語）"
        value={text}
        onChange={(e) => setText(e.target.value)}
      />
      <button type="submit">検索</button>
      <span className="inline-field">
        <label htmlFor="category-filter">カテゴリ</label>
        <select id="category-filter" value={category} onChange={(e) => onCategory(e.target.value)}>
          <option value="">すべて</option>
          {categories.data?.items.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name}
            </option>
          ))}
        </select>
      </span>
    </form>
  );
}

function Results({ q, category }: { q: string; category: string }) {
  const pager = useCursorPager();
  const products = useProducts({ q, category, ...(pager.cursor ? { cursor: pager.cursor } : {}), limit: 12 });
  return (
    <QueryView query={products} what="商品を読み込み中">
      {(page) =>
        page.items.length === 0 ? (
          <p className="muted">{q || category ? '条件に合う商品はありません。' : 'まだ商品がありません。管理画面から登録できます。'}</p>
        ) : (
          <>
            {q && <p className="muted">「{q}」の検索結果</p>}
            <ul className="product-grid" aria-label="商品">
              {page.items.map((p) => (
                <li key={p.id} className="product card">
                  <h2>
                    <Link to={`/products/${p.id}`}>{p.name}</Link>
                  </h2>
                  {p.category_name && <span className="chip">{p.category_name}</span>}
                  <p className="description">{p.description}</p>
                  <p className="price">{yen(p.price)}</p>
                  <p className={p.available_quantity > 0 ? 'stock' : 'stock out'}>
                    {p.available_quantity > 0 ? `在庫 ${num(p.available_quantity)}` : '在庫切れ'}
                  </p>
                  <AddToCart product={p} />
                </li>
              ))}
            </ul>
            <Pager pager={pager} nextCursor={page.next_cursor} label="商品一覧" />
          </>
        )
      }
    </QueryView>
  );
}

export function ProductsPage() {
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const category = params.get('category') ?? '';
  const set = (name: string, value: string) =>
    setParams((p) => {
      const next = new URLSearchParams(p);
      if (value) next.set(name, value);
      else next.delete(name);
      return next;
    });
  return (
    <section aria-labelledby="products-title">
      <h1 id="products-title">商品一覧</h1>
      {/* Keyed by the URL's search: a new search starts at page 1 with the box showing what was searched. */}
      <SearchForm key={q} q={q} category={category} onSearch={(v) => set('q', v)} onCategory={(v) => set('category', v)} />
      <Results key={`${q}|${category}`} q={q} category={category} />
    </section>
  );
}
