import { Link, useSearchParams } from 'react-router';
import { useSagas } from '../api/queries.ts';
import type { Saga, SagaStatus } from '../api/types.ts';
import { Json, Pager, QueryView, SagaStatusBadge, StepStatusIcon, useCursorPager } from '../components/ui.tsx';
import { dateTime, SAGA_STATUS_LABEL, SAGA_TYPE_LABEL, shortId, stepLabel } from '../lib/format.ts';

function SagaCard({ saga }: { saga: Saga }) {
  const compensated = saga.status === 'compensated' || saga.steps.some((s) => s.step === 'compensated');
  return (
    <li className="card saga" data-saga-id={saga.saga_id}>
      <div className="saga-head">
        <h2>{SAGA_TYPE_LABEL[saga.saga_type] ?? saga.saga_type}</h2>
        <SagaStatusBadge status={saga.status} />
      </div>
      <p className="muted">
        注文{' '}
        <Link to={`/orders/${saga.order_id}`} aria-label={`注文 ${saga.order_id}`}>
          <code>{shortId(saga.order_id)}</code>
        </Link>{' '}
        · 開始 {dateTime(saga.started_at)} · 更新 {dateTime(saga.updated_at)}
        {compensated && ' · 補償トランザクション実行済み'}
      </p>
      <ol className="steps">
        {saga.steps.map((s, i) => (
          <li key={`${s.step}-${i}`} className={`step step-${s.status}`}>
            <StepStatusIcon status={s.status} />
            <span className="step-name">
              {stepLabel(s.step)} <code>{s.step}</code>
            </span>
            <time dateTime={s.at} className="muted">
              {dateTime(s.at)}
            </time>
            {Object.keys(s.detail).length > 0 && <Json value={s.detail} summary="詳細" />}
          </li>
        ))}
      </ol>
    </li>
  );
}

export function SagasPage() {
  const [params, setParams] = useSearchParams();
  const status = params.get('status') ?? '';
  const type = params.get('type') ?? '';
  const pager = useCursorPager();
  const sagas = useSagas({ status, type, ...(pager.cursor ? { cursor: pager.cursor } : {}) });
  const set = (name: string, value: string) => {
    pager.reset();
    setParams((p) => {
      const next = new URLSearchParams(p);
      if (value) next.set(name, value);
      else next.delete(name);
      return next;
    });
  };
  // Filters are applied here too: an api answering the older flat log ignores them.
  const shown = (sagas.data?.items ?? []).filter((s) => (!status || s.status === status) && (!type || s.saga_type === type));
  return (
    <section aria-labelledby="sagas-title">
      <h1 id="sagas-title">Saga ログ</h1>
      <p className="muted">注文をまたぐ処理（配送、支払期限による在庫引当の解除）の各ステップと結果、失敗時の補償。</p>
      <div className="toolbar">
        <label htmlFor="saga-type">種類</label>
        <select id="saga-type" value={type} onChange={(e) => set('type', e.target.value)}>
          <option value="">すべて</option>
          {Object.entries(SAGA_TYPE_LABEL).map(([k, v]) => (
            <option key={k} value={k}>
              {v}
            </option>
          ))}
        </select>
        <label htmlFor="saga-status">結果</label>
        <select id="saga-status" value={status} onChange={(e) => set('status', e.target.value)}>
          <option value="">すべて</option>
          {(Object.keys(SAGA_STATUS_LABEL) as SagaStatus[]).map((s) => (
            <option key={s} value={s}>
              {SAGA_STATUS_LABEL[s]}
            </option>
          ))}
        </select>
      </div>
      <QueryView query={sagas} what="Saga を読み込み中">
        {(page) => (
          <>
            {shown.length === 0 ? (
              <p className="muted">記録された Saga はまだありません。</p>
            ) : (
              <ul className="plain sagas">
                {shown.map((s) => (
                  <SagaCard key={s.saga_id} saga={s} />
                ))}
              </ul>
            )}
            <Pager pager={pager} nextCursor={page.next_cursor} label="Saga ログ" />
          </>
        )}
      </QueryView>
    </section>
  );
}
