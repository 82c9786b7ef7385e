import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useApi, useVersions } from '../../api/context.tsx';
import { useCategories, useProducts } from '../../api/queries.ts';
import type { Product, ProductChanged } from '../../api/types.ts';
import { Field, Pager, ProblemText, QueryView, useCursorPager } from '../../components/ui.tsx';
import { num, yen } from '../../lib/format.ts';

function CategorySelect({ id, value, onChange }: { id: string; value: string; onChange: (v: string) => void }) {
  const categories = useCategories();
  return (
    <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
      <option value="">（なし）</option>
      {categories.data?.items.map((c) => (
        <option key={c.id} value={c.id}>
          {c.name}
        </option>
      ))}
    </select>
  );
}

const toInt = (s: string) => (s.trim() === '' ? Number.NaN : Number(s));

function CreateProduct({ onCreated }: { onCreated: (answer: ProductChanged) => void }) {
  const api = useApi();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [price, setPrice] = useState('');
  const [stock, setStock] = useState('0');
  const [category, setCategory] = useState('');
  const create = useMutation({
    // Numbers go as typed: the api validates them and says what is wrong (integer yen, stock ≥ 0).
    mutationFn: () =>
      api.post<ProductChanged>('/products', {
        name: name.trim(),
        description,
        price: toInt(price),
        stock: toInt(stock),
        category: category || null,
      }),
    onSuccess: (answer) => {
      setName('');
      setDescription('');
      setPrice('');
      setStock('0');
      onCreated(answer);
    },
  });
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    // noValidate: the api is the one validator; its problem details name the field and say what is wrong.
    <form className="card" onSubmit={onSubmit} aria-labelledby="new-product" noValidate>
      <h2 id="new-product">商品を登録</h2>
      <Field label="商品名">
        {(id) => <input id={id} required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />}
      </Field>
      <Field label="説明">
        {(id) => <textarea id={id} rows={3} maxLength={5000} value={description} onChange={(e) => setDescription(e.target.value)} />}
      </Field>
      <div className="row">
        <Field label="価格（円）">
          {(id) => (
            <input
              id={id}
              type="number"
              inputMode="numeric"
              required
              min={0}
              step={1}
              value={price}
              onChange={(e) => setPrice(e.target.value)}
            />
          )}
        </Field>
        <Field label="初期在庫">
          {(id) => (
            <input id={id} type="number" inputMode="numeric" min={0} step={1} value={stock} onChange={(e) => setStock(e.target.value)} />
          )}
        </Field>
      </div>
      <Field label="カテゴリ">{(id) => <CategorySelect id={id} value={category} onChange={setCategory} />}</Field>
      <ProblemText error={create.error} />
      <button type="submit" disabled={create.isPending}>
        商品を登録
      </button>
      {create.isSuccess && (
        <p className="ok" role="status">
          登録しました。<Link to={`/products/${create.data.id}`}>商品ページ</Link>
        </p>
      )}
    </form>
  );
}

function EditProduct({ product, onDone }: { product: Product; onDone: (answer?: ProductChanged) => void }) {
  const api = useApi();
  const [name, setName] = useState(product.name);
  const [description, setDescription] = useState(product.description);
  const [price, setPrice] = useState(String(product.price));
  const [category, setCategory] = useState(product.category_id ?? '');
  const save = useMutation({
    mutationFn: () =>
      api.put<ProductChanged>(`/products/${product.id}`, {
        name: name.trim(),
        description,
        price: toInt(price),
        category: category || null,
      }),
    onSuccess: (answer) => onDone(answer),
  });
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <form className="edit" onSubmit={onSubmit} aria-label={`${product.name} を編集`}>
      <Field label="商品名">{(id) => <input id={id} required value={name} onChange={(e) => setName(e.target.value)} />}</Field>
      <Field label="説明">
        {(id) => <textarea id={id} rows={2} value={description} onChange={(e) => setDescription(e.target.value)} />}
      </Field>
      <div className="row">
        <Field label="価格（円）">
          {(id) => <input id={id} type="number" min={0} step={1} value={price} onChange={(e) => setPrice(e.target.value)} />}
        </Field>
        <Field label="カテゴリ">{(id) => <CategorySelect id={id} value={category} onChange={setCategory} />}</Field>
      </div>
      <ProblemText error={save.error} />
      <div className="actions">
        <button type="submit" disabled={save.isPending}>
          保存
        </button>
        <button type="button" className="secondary" onClick={() => onDone()}>
          やめる
        </button>
      </div>
    </form>
  );
}

function ProductRow({ product, onChanged }: { product: Product; onChanged: (answer: ProductChanged) => void }) {
  const api = useApi();
  const [editing, setEditing] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const remove = useMutation({ mutationFn: () => api.del<ProductChanged>(`/products/${product.id}`), onSuccess: onChanged });
  return (
    <li className="admin-product">
      <div className="admin-product-head">
        <div>
          <Link to={`/products/${product.id}`}>
            <strong>{product.name}</strong>
          </Link>
          {product.category_name && <span className="chip">{product.category_name}</span>}
          <div className="muted">
            {yen(product.price)} · 在庫 {num(product.available_quantity)} / {num(product.total_quantity)}（引当{' '}
            {num(product.reserved_quantity)}）
          </div>
        </div>
        <div className="actions">
          <button
            type="button"
            className="secondary"
            onClick={() => setEditing((v) => !v)}
            aria-expanded={editing}
            aria-label={`${product.name} を編集`}
          >
            編集
          </button>
          {confirming ? (
            <>
              <button
                type="button"
                className="danger"
                onClick={() => remove.mutate()}
                disabled={remove.isPending}
                aria-label={`${product.name} の削除を確定`}
              >
                本当に削除
              </button>
              <button type="button" className="secondary" onClick={() => setConfirming(false)}>
                やめる
              </button>
            </>
          ) : (
            <button type="button" className="danger" onClick={() => setConfirming(true)} aria-label={`${product.name} を削除`}>
              削除
            </button>
          )}
        </div>
      </div>
      <ProblemText error={remove.error} />
      {editing && (
        <EditProduct
          product={product}
          onDone={(answer) => {
            setEditing(false);
            if (answer) onChanged(answer);
          }}
        />
      )}
    </li>
  );
}

export function AdminProducts() {
  const versions = useVersions();
  const queryClient = useQueryClient();
  const pager = useCursorPager();
  const [q, setQ] = useState('');
  const [waitFor, setWaitFor] = useState<string>();
  const products = useProducts({
    q,
    ...(pager.cursor ? { cursor: pager.cursor } : {}),
    limit: 20,
    ...(waitFor ? { wait_for: waitFor } : {}),
  });
  const changed = (answer: ProductChanged) => {
    versions.note(answer.id, answer.version);
    // The list waits for exactly this write (?wait_for=<id>:<version>) before it answers.
    setWaitFor(`${answer.id}:${answer.version}`);
    void queryClient.invalidateQueries({ queryKey: ['product', answer.id] });
  };
  return (
    <div className="grid-2">
      <CreateProduct onCreated={changed} />
      <section className="card" aria-labelledby="admin-products">
        <h2 id="admin-products">登録済みの商品</h2>
        <div className="toolbar">
          <label htmlFor="admin-product-filter">絞り込み</label>
          <input id="admin-product-filter" type="search" value={q} onChange={(e) => (setQ(e.target.value), pager.reset())} />
        </div>
        <QueryView query={products}>
          {(page) => (
            <>
              <ul className="plain">
                {page.items.map((p) => (
                  <ProductRow key={`${p.id}:${p.version}`} product={p} onChanged={changed} />
                ))}
              </ul>
              {page.items.length === 0 && <p className="muted">商品はありません。</p>}
              <Pager pager={pager} nextCursor={page.next_cursor} label="商品" />
            </>
          )}
        </QueryView>
      </section>
    </div>
  );
}
