import {
  ArcElement,
  BarElement,
  CategoryScale,
  Chart as ChartJS,
  Legend,
  LinearScale,
  LineElement,
  PointElement,
  Tooltip,
  type ChartOptions,
} from 'chart.js';
import type { ReactNode } from 'react';
import { Bar, Doughnut } from 'react-chartjs-2';
import { useDashboard } from '../api/queries.ts';
import type { Dashboard } from '../api/types.ts';
import { QueryView } from '../components/ui.tsx';
import { day, num, ORDER_STATUS_LABEL, yen } from '../lib/format.ts';

ChartJS.register(CategoryScale, LinearScale, BarElement, LineElement, PointElement, ArcElement, Tooltip, Legend);
ChartJS.defaults.font.family = 'system-ui, "Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic", sans-serif';
ChartJS.defaults.color = '#374151';
if (window.matchMedia?.('(prefers-reduced-motion: reduce)').matches) ChartJS.defaults.animation = false;

const PALETTE = ['#b4233c', '#2563eb', '#059669', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d', '#475569', '#ea580c'];
const yenTick = (v: string | number) => yen(Number(v));

const base: ChartOptions<'bar'> = { responsive: true, maintainAspectRatio: false, plugins: { legend: { display: false } } };

/** A chart with its numbers as a table too: a canvas is only a picture to a screen reader. */
function ChartCard({
  title,
  summary,
  children,
  table,
}: {
  title: string;
  summary: string;
  children: ReactNode;
  table: { head: string[]; rows: Array<Array<string | number>> };
}) {
  const id = title.replace(/\s/g, '-');
  return (
    <section className="card chart-card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      <div className="chart" role="img" aria-label={`${title}: ${summary}`}>
        {children}
      </div>
      <details>
        <summary>データを表で見る</summary>
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                {table.head.map((h) => (
                  <th key={h} scope="col">
                    {h}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {table.rows.map((r, i) => (
                <tr key={i}>
                  {r.map((c, j) => (
                    <td key={j}>{c}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </section>
  );
}

function Charts({ d }: { d: Dashboard }) {
  const s = d.statistics;
  const statuses: Array<[string, number]> = [
    [ORDER_STATUS_LABEL.pending, s.pending_count],
    [ORDER_STATUS_LABEL.paid, s.paid_count],
    [ORDER_STATUS_LABEL.shipped, s.shipped_count],
    [ORDER_STATUS_LABEL.delivered, s.delivered_count],
    [ORDER_STATUS_LABEL.cancelled, s.cancelled_count],
    [ORDER_STATUS_LABEL.shipment_failed, s.shipment_failed_count],
  ];
  const customers = d.top_customers.filter((c) => c.total_spent > 0);
  return (
    <>
      <dl className="kpis">
        <div className="kpi">
          <dt>売上合計</dt>
          <dd data-testid="kpi-revenue">{yen(d.overview.total_revenue)}</dd>
        </div>
        <div className="kpi">
          <dt>支払い済み注文</dt>
          <dd>{num(d.overview.paid_order_count)}</dd>
        </div>
        <div className="kpi">
          <dt>平均注文額</dt>
          <dd>{yen(d.overview.average_order_value)}</dd>
        </div>
        <div className="kpi">
          <dt>顧客数（購入者）</dt>
          <dd>
            {num(d.overview.customer_count)}（{num(d.overview.paying_customer_count)}）
          </dd>
        </div>
      </dl>
      <div className="charts">
        <ChartCard
          title="日次売上（過去 30 日）"
          summary={`合計 ${yen(d.daily_sales.reduce((n, x) => n + x.revenue, 0))}`}
          table={{
            head: ['日付', '注文数', '売上'],
            rows: d.daily_sales.filter((x) => x.order_count > 0).map((x) => [x.day, x.order_count, yen(x.revenue)]),
          }}
        >
          <Bar
            data={{
              labels: d.daily_sales.map((x) => day(x.day)),
              datasets: [{ label: '売上', data: d.daily_sales.map((x) => x.revenue), backgroundColor: PALETTE[0] }],
            }}
            options={{
              ...base,
              scales: { y: { ticks: { callback: yenTick } } },
              plugins: { legend: { display: false }, tooltip: { callbacks: { label: (c) => yen(Number(c.raw)) } } },
            }}
          />
        </ChartCard>
        <ChartCard
          title="商品の人気（販売数）"
          summary={
            d.popular_products
              .slice(0, 3)
              .map((p) => `${p.name} ${p.units_sold} 個`)
              .join('、') || 'まだ販売なし'
          }
          table={{
            head: ['商品', '販売数', '注文数', '売上'],
            rows: d.popular_products.map((p) => [p.name, p.units_sold, p.order_count, yen(p.revenue)]),
          }}
        >
          <Bar
            data={{
              labels: d.popular_products.map((p) => p.name),
              datasets: [{ label: '販売数', data: d.popular_products.map((p) => p.units_sold), backgroundColor: PALETTE[1] }],
            }}
            // Units are whole: no 0.5 ticks on a small shop's axis.
            options={{ ...base, indexAxis: 'y', scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } }}
          />
        </ChartCard>
        <ChartCard
          title="顧客 LTV（累計購入額）"
          summary={
            customers
              .slice(0, 3)
              .map((c) => `${c.name ?? c.email} ${yen(c.total_spent)}`)
              .join('、') || 'まだ購入なし'
          }
          table={{
            head: ['顧客', '注文数', '支払い済み', 'LTV'],
            rows: d.top_customers.map((c) => [c.name ?? c.email ?? c.user_id, c.order_count, c.paid_order_count, yen(c.total_spent)]),
          }}
        >
          <Bar
            data={{
              labels: customers.map((c) => c.name ?? c.email ?? c.user_id),
              datasets: [{ label: 'LTV', data: customers.map((c) => c.total_spent), backgroundColor: PALETTE[2] }],
            }}
            options={{
              ...base,
              scales: { y: { ticks: { callback: yenTick } } },
              plugins: { legend: { display: false }, tooltip: { callbacks: { label: (c) => yen(Number(c.raw)) } } },
            }}
          />
        </ChartCard>
        <ChartCard
          title="注文の状態"
          summary={statuses.map(([l, n]) => `${l} ${n}`).join('、')}
          table={{ head: ['状態', '件数'], rows: statuses.map(([l, n]) => [l, n]) }}
        >
          <Doughnut
            data={{
              labels: statuses.map(([l]) => l),
              datasets: [
                { data: statuses.map(([, n]) => n), backgroundColor: ['#d97706', '#2563eb', '#7c3aed', '#059669', '#6b7280', '#b4233c'] },
              ],
            }}
            options={{ responsive: true, maintainAspectRatio: false, plugins: { legend: { position: 'right' } } }}
          />
        </ChartCard>
      </div>
    </>
  );
}

export function DashboardPage() {
  const dashboard = useDashboard();
  return (
    <section aria-labelledby="dashboard-title">
      <h1 id="dashboard-title">マーケティング ダッシュボード</h1>
      <p className="muted">注文イベントから投影した分析用リードモデル（顧客サマリ・商品人気・日次売上）。</p>
      <QueryView query={dashboard} what="集計を読み込み中">
        {(d) => <Charts d={d} />}
      </QueryView>
    </section>
  );
}
