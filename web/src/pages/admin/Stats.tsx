import { useStatistics } from '../../api/queries.ts';
import type { OrderStatistics } from '../../api/types.ts';
import { QueryView } from '../../components/ui.tsx';
import { num, ORDER_STATUS_LABEL, yen } from '../../lib/format.ts';

const COUNTS: Array<[keyof OrderStatistics, string]> = [
  ['total_count', '注文総数'],
  ['pending_count', ORDER_STATUS_LABEL.pending],
  ['paid_count', ORDER_STATUS_LABEL.paid],
  ['shipped_count', ORDER_STATUS_LABEL.shipped],
  ['delivered_count', ORDER_STATUS_LABEL.delivered],
  ['cancelled_count', ORDER_STATUS_LABEL.cancelled],
  ['shipment_failed_count', ORDER_STATUS_LABEL.shipment_failed],
];

export function AdminStats() {
  const stats = useStatistics();
  return (
    <section className="card" aria-labelledby="stats-title">
      <h2 id="stats-title">注文統計</h2>
      <QueryView query={stats}>
        {(s) => (
          <dl className="kpis">
            <div className="kpi">
              <dt>売上合計（支払い済み・発送済み・配達完了）</dt>
              <dd>{yen(s.total_revenue)}</dd>
            </div>
            {COUNTS.map(([key, label]) => (
              <div className="kpi" key={key}>
                <dt>{label}</dt>
                <dd>{num(s[key])}</dd>
              </div>
            ))}
          </dl>
        )}
      </QueryView>
    </section>
  );
}
