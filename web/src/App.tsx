import { lazy, Suspense, type ReactNode } from 'react';
import { createHashRouter, Navigate, RouterProvider, useLocation } from 'react-router';
import { useSession } from './api/context.tsx';
import { Layout } from './components/Layout.tsx';
import { Forbidden, Loading } from './components/ui.tsx';
import { CartPage } from './pages/Cart.tsx';
import { LoginPage } from './pages/Login.tsx';
import { OrderPage } from './pages/Order.tsx';
import { OrdersPage } from './pages/Orders.tsx';
import { ProductPage } from './pages/Product.tsx';
import { ProductsPage } from './pages/Products.tsx';

// The staff screens (and chart.js) load on first use: a shopper never downloads them.
const AdminPage = lazy(() => import('./pages/Admin.tsx').then((m) => ({ default: m.AdminPage })));
const DashboardPage = lazy(() => import('./pages/Dashboard.tsx').then((m) => ({ default: m.DashboardPage })));
const EventsPage = lazy(() => import('./pages/Events.tsx').then((m) => ({ default: m.EventsPage })));
const OpsPage = lazy(() => import('./pages/Ops.tsx').then((m) => ({ default: m.OpsPage })));
const SagasPage = lazy(() => import('./pages/Sagas.tsx').then((m) => ({ default: m.SagasPage })));
const StreamPage = lazy(() => import('./pages/Stream.tsx').then((m) => ({ default: m.StreamPage })));

/** Logged-in users only; anyone else goes to #/login and comes back here afterwards. */
function RequireUser({ children }: { children: ReactNode }) {
  const session = useSession();
  const location = useLocation();
  if (!session) return <Navigate to={`/login?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;
  return <Suspense fallback={<Loading />}>{children}</Suspense>;
}

/** Admin screens render no admin control for a customer (the api refuses them anyway: 403). */
function RequireAdmin({ children }: { children: ReactNode }) {
  const session = useSession();
  return (
    <RequireUser>{session?.user.role === 'admin' ? <Suspense fallback={<Loading />}>{children}</Suspense> : <Forbidden />}</RequireUser>
  );
}

function NotFound() {
  return (
    <section className="card">
      <h1>ページが見つかりません</h1>
      <p>
        <a href="#/products">商品一覧へ</a>
      </p>
    </section>
  );
}

// Hash routes (#/products, #/orders/<id>, …): no SPA path can ever collide with an API path.
const router = createHashRouter([
  {
    element: <Layout />,
    children: [
      { index: true, element: <Navigate to="/products" replace /> },
      { path: 'login', element: <LoginPage mode="login" /> },
      { path: 'register', element: <LoginPage mode="register" /> },
      { path: 'products', element: <ProductsPage /> },
      { path: 'products/:id', element: <ProductPage /> },
      {
        path: 'cart',
        element: (
          <RequireUser>
            <CartPage />
          </RequireUser>
        ),
      },
      {
        path: 'orders',
        element: (
          <RequireUser>
            <OrdersPage />
          </RequireUser>
        ),
      },
      {
        path: 'orders/:id',
        element: (
          <RequireUser>
            <OrderPage />
          </RequireUser>
        ),
      },
      {
        path: 'admin',
        element: (
          <RequireAdmin>
            <AdminPage />
          </RequireAdmin>
        ),
      },
      {
        path: 'events',
        element: (
          <RequireAdmin>
            <EventsPage />
          </RequireAdmin>
        ),
      },
      // A customer may open their own streams (their orders, their cart); the api decides.
      {
        path: 'events/:id',
        element: (
          <RequireUser>
            <StreamPage />
          </RequireUser>
        ),
      },
      {
        path: 'sagas',
        element: (
          <RequireAdmin>
            <SagasPage />
          </RequireAdmin>
        ),
      },
      {
        path: 'dashboard',
        element: (
          <RequireAdmin>
            <DashboardPage />
          </RequireAdmin>
        ),
      },
      {
        path: 'ops',
        element: (
          <RequireAdmin>
            <OpsPage />
          </RequireAdmin>
        ),
      },
      { path: '*', element: <NotFound /> },
    ],
  },
]);

export function App() {
  return <RouterProvider router={router} />;
}
