import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { isApiError } from '../api/client.ts';
import { useApi, useSession } from '../api/context.tsx';
import { Field, ProblemText } from '../components/ui.tsx';
import { ROLE_LABEL } from '../lib/format.ts';

/** Where to go after logging in: only an in-app route, never another site. */
const safeNext = (next: string | null) =>
  next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/login') ? next : '/products';

export function LoginPage({ mode }: { mode: 'login' | 'register' }) {
  const api = useApi();
  const session = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');

  const submit = useMutation({
    mutationFn: async () => {
      if (mode === 'register') await api.register({ email, password, name });
      return api.login({ email, password });
    },
    onSuccess: () => navigate(next, { replace: true }),
  });
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    submit.mutate();
  };
  const fieldError = (field: string) => (isApiError(submit.error) ? submit.error.fieldError(field) : undefined);
  const title = mode === 'login' ? 'ログイン' : '新規登録';

  return (
    <section className="card narrow" aria-labelledby="login-title">
      <h1 id="login-title">{title}</h1>
      {session && (
        <p className="notice">
          {session.user.name} さん（{ROLE_LABEL[session.user.role]}）としてログイン中です。別のアカウントでログインできます。
        </p>
      )}
      <form onSubmit={onSubmit} noValidate={false}>
        {mode === 'register' && (
          <Field label="お名前">
            {(id) => (
              <input
                id={id}
                name="name"
                autoComplete="name"
                required
                maxLength={100}
                value={name}
                onChange={(e) => setName(e.target.value)}
                aria-invalid={!!fieldError('name')}
              />
            )}
          </Field>
        )}
        <Field label="メールアドレス">
          {(id) => (
            <input
              id={id}
              name="email"
              type="email"
              autoComplete="email"
              required
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              aria-invalid={!!fieldError('email')}
            />
          )}
        </Field>
        <Field label="パスワード" {...(mode === 'register' ? { hint: '8 文字以上' } : {})}>
          {(id) => (
            <input
              id={id}
              name="password"
              type="password"
              autoComplete={mode === 'login' ? 'current-password' : 'new-password'}
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              aria-invalid={!!fieldError('password')}
            />
          )}
        </Field>
        <ProblemText error={submit.error} />
        <button type="submit" disabled={submit.isPending}>
          {submit.isPending ? `${title}中…` : mode === 'login' ? 'ログイン' : '登録してログイン'}
        </button>
      </form>
      <p className="switch">
        {mode === 'login' ? (
          <>
            アカウントをお持ちでない方は <Link to={`/register?next=${encodeURIComponent(next)}`}>新規登録</Link>
          </>
        ) : (
          <>
            登録済みの方は <Link to={`/login?next=${encodeURIComponent(next)}`}>ログイン</Link>
          </>
        )}
      </p>
    </section>
  );
}
