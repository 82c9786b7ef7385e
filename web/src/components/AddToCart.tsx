import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { useApi, useSession, useVersions } from '../api/context.tsx';
import { cartStreamId } from '../api/queries.ts';
import type { CartChanged, Product } from '../api/types.ts';
import { ProblemText } from './ui.tsx';

/** Quantity and "カートに追加"; the api's refusal (e.g. insufficient stock) is shown right under the button. */
export function AddToCart({ product }: { product: Product }) {
  const api = useApi();
  const session = useSession();
  const versions = useVersions();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [quantity, setQuantity] = useState(1);
  const [added, setAdded] = useState(false);
  const add = useMutation({
    mutationFn: () => api.post<CartChanged>('/cart/items', { product_id: product.id, quantity }),
    onSuccess: (answer) => {
      versions.note(cartStreamId(answer.user_id), answer.version);
      setAdded(true);
      void queryClient.invalidateQueries({ queryKey: ['cart'] });
    },
  });
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (!session) {
      navigate(`/login?next=${encodeURIComponent(`/products/${product.id}`)}`);
      return;
    }
    setAdded(false);
    add.mutate();
  };
  const inputId = `qty-${product.id}`;
  return (
    <form className="add-to-cart" onSubmit={onSubmit}>
      <label htmlFor={inputId} className="sr-only">
        {product.name} の数量
      </label>
      <input
        id={inputId}
        type="number"
        min={1}
        max={99}
        inputMode="numeric"
        value={quantity}
        onChange={(e) => setQuantity(Math.max(1, Math.floor(Number(e.target.value) || 1)))}
        className="qty"
      />
      <button type="submit" disabled={add.isPending} aria-label={`${product.name} をカートに追加`}>
        カートに追加
      </button>
      {added && !add.isPending && (
        <span className="ok" role="status">
          追加しました
        </span>
      )}
      <ProblemText error={add.error} />
    </form>
  );
}
