import { useSearchParams } from 'react-router';
import { AdminCategories } from './admin/Categories.tsx';
import { AdminInventory } from './admin/Inventory.tsx';
import { AdminOrders } from './admin/Orders.tsx';
import { AdminProducts } from './admin/Products.tsx';
import { AdminStats } from './admin/Stats.tsx';

const TABS = [
  { id: 'products', label: '商品', render: () => <AdminProducts /> },
  { id: 'categories', label: 'カテゴリ', render: () => <AdminCategories /> },
  { id: 'inventory', label: '在庫と引当', render: () => <AdminInventory /> },
  { id: 'orders', label: '注文', render: () => <AdminOrders /> },
  { id: 'stats', label: '統計', render: () => <AdminStats /> },
] as const;

export function AdminPage() {
  const [params, setParams] = useSearchParams();
  const current = TABS.find((t) => t.id === params.get('tab')) ?? TABS[0];
  return (
    <section aria-labelledby="admin-title">
      <h1 id="admin-title">管理</h1>
      {/* Links rather than an ARIA tablist: each section has its own URL (#/admin?tab=inventory). */}
      <nav className="subnav" aria-label="管理メニュー">
        {TABS.map((t) => (
          <a
            key={t.id}
            href={`#/admin?tab=${t.id}`}
            aria-current={t.id === current.id ? 'page' : undefined}
            onClick={(e) => {
              e.preventDefault();
              setParams({ tab: t.id });
            }}
          >
            {t.label}
          </a>
        ))}
      </nav>
      {current.render()}
    </section>
  );
}
