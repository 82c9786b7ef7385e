import { useEffect, useRef } from 'react';
import { NavLink, Outlet, useLocation, useNavigate } from 'react-router';
import { useApi, useLiveStatus, useSession } from '../api/context.tsx';
import { useCart } from '../api/queries.ts';
import { ROLE_LABEL } from '../lib/format.ts';

const LIVE_LABEL = { off: '', connecting: '接続中…', live: 'ライブ', reconnecting: '再接続中…' } as const;

function CartLink() {
  const cart = useCart();
  const count = cart.data?.item_count ?? 0;
  return (
    <NavLink to="/cart">
      カート{' '}
      <span className="count" aria-label={`${count} 点`}>
        {count}
      </span>
    </NavLink>
  );
}

export function Layout() {
  const session = useSession();
  const api = useApi();
  const live = useLiveStatus();
  const navigate = useNavigate();
  const location = useLocation();
  const main = useRef<HTMLElement>(null);
  const isAdmin = session?.user.role === 'admin';

  // A route change moves keyboard and screen-reader focus to the new page, as a page load would.
  useEffect(() => {
    main.current?.focus({ preventScroll: true });
  }, [location.pathname]);

  const logout = async () => {
    await api.logout();
    navigate('/login', { replace: true });
  };

  return (
    <>
      <a className="skip" href="#main" onClick={(e) => (e.preventDefault(), main.current?.focus())}>
        本文へスキップ
      </a>
      <header className="top">
        <div className="brand">
          <NavLink to="/products">EC Shop</NavLink>
          <span className="tagline">イベントソーシング × CQRS のお店</span>
        </div>
        <nav aria-label="メイン">
          <NavLink to="/products">商品</NavLink>
          {session && <CartLink />}
          {session && <NavLink to="/orders">注文履歴</NavLink>}
          {isAdmin && (
            <>
              <NavLink to="/admin">管理</NavLink>
              <NavLink to="/events">イベント</NavLink>
              <NavLink to="/sagas">Saga</NavLink>
              <NavLink to="/dashboard">ダッシュボード</NavLink>
              <NavLink to="/ops">運用</NavLink>
            </>
          )}
        </nav>
        <div className="who">
          {session ? (
            <>
              <span className="user" data-testid="current-user">
                {session.user.name} <span className={`role role-${session.user.role}`}>{ROLE_LABEL[session.user.role]}</span>
              </span>
              {live !== 'off' && (
                <span className={`live live-${live}`} role="status" aria-label={`ライブ更新: ${LIVE_LABEL[live]}`}>
                  <span aria-hidden="true">●</span> {LIVE_LABEL[live]}
                </span>
              )}
              <button type="button" className="secondary" onClick={() => void logout()}>
                ログアウト
              </button>
            </>
          ) : (
            <NavLink to="/login">ログイン</NavLink>
          )}
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        <Outlet />
      </main>
      <footer className="foot muted">
        EC Shop — DynamoDB イベントストア → Kafka → PostgreSQL リードモデル。<a href="/healthz">/healthz</a> · <a href="/readyz">/readyz</a>
      </footer>
    </>
  );
}
