import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useApi } from '../../api/context.tsx';
import { useCategories } from '../../api/queries.ts';
import type { CategoryCreated } from '../../api/types.ts';
import { Field, ProblemText, QueryView } from '../../components/ui.tsx';
import { dateTime } from '../../lib/format.ts';

export function AdminCategories() {
  const api = useApi();
  const queryClient = useQueryClient();
  const categories = useCategories();
  const [name, setName] = useState('');
  const create = useMutation({
    mutationFn: () => api.post<CategoryCreated>('/categories', { name: name.trim() }),
    onSuccess: () => {
      setName('');
      // The list is a read model: the live stream refetches it again once the projector has the new row.
      void queryClient.invalidateQueries({ queryKey: ['categories'] });
    },
  });
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <div className="grid-2">
      <form className="card" onSubmit={onSubmit} aria-labelledby="new-category">
        <h2 id="new-category">カテゴリを追加</h2>
        <Field label="カテゴリ名">
          {(id) => <input id={id} required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <ProblemText error={create.error} />
        <button type="submit" disabled={create.isPending}>
          カテゴリを追加
        </button>
        {create.isSuccess && (
          <p role="status" className="ok">
            追加しました: {create.data.name}
          </p>
        )}
      </form>
      <section className="card" aria-labelledby="category-list">
        <h2 id="category-list">カテゴリ一覧</h2>
        <QueryView query={categories}>
          {(list) =>
            list.items.length === 0 ? (
              <p className="muted">カテゴリはまだありません。</p>
            ) : (
              <ul className="plain">
                {list.items.map((c) => (
                  <li key={c.id}>
                    <strong>{c.name}</strong> <span className="muted">{dateTime(c.created_at)}</span>
                  </li>
                ))}
              </ul>
            )
          }
        </QueryView>
      </section>
    </div>
  );
}
