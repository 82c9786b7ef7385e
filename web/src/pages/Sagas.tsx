import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useSagaEvents, useSagas } from '../api/queries.ts';
import { eventHref, summarizeSaga, type EventRef } from '../api/sagas.ts';
import type { Saga, SagaStatus, SagaStep } from '../api/types.ts';
import { Pager, ProblemText, QueryView, SagaStatusBadge, StepStatusIcon, useCursorPager } from '../components/ui.tsx';
import {
  dateTime,
  eventLabel,
  OUTCOME_LABEL,
  SAGA_STATUS_LABEL,
  SAGA_TYPE_LABEL,
  shortId,
  stepDetails,
  stepLabel,
  yen,
} from '../lib/format.ts';

const STREAM_KIND: Record<string, string> = { Order: '注文', Shipment: '配送', Inventory: '在庫' };

function EventLinks({ step, events, loaded }: { step: SagaStep; events: Map<string, EventRef>; loaded: boolean | undefined }) {
  if (step.event_ids.length === 0) return null;
  // Names are looked up on request (the button below the steps); until then, how many.
  if (loaded === undefined) return <p className="event-links muted">イベント {step.event_ids.length} 件</p>;
  return (
    <ul className="event-links" aria-label={`${stepLabel(step.step)} のイベント`}>
      {step.event_ids.map((id) => {
        const ref = events.get(id);
        return (
          <li key={id}>
            {ref ? (
              <Link to={eventHref(ref)} title={`${ref.aggregate_id} v${ref.version}`}>
                {ref.event_type} v{ref.version}
              </Link>
            ) : (
              <code title={id}>{loaded ? `${shortId(id)}（見つかりません）` : shortId(id)}</code>
            )}
            {ref && (
              <span className="muted">
                {' '}
                {STREAM_KIND[ref.aggregate_type] ?? ref.aggregate_type}・{eventLabel(ref.event_type)}
              </span>
            )}
          </li>
        );
      })}
    </ul>
  );
}

function Step({ step, events, loaded }: { step: SagaStep; events: Map<string, EventRef>; loaded: boolean | undefined }) {
  const details = stepDetails(step.detail);
  const compensation = step.step === 'compensated' || step.step === 'cancelled';
  return (
    <li className={`step step-${step.status}${compensation ? ' step-compensation' : ''}`} data-step={step.step}>
      <div className="step-head">
        <StepStatusIcon status={step.status} />
        <span className="step-name">{stepLabel(step.step)}</span>
        <code className="muted">{step.step}</code>
        <time dateTime={step.at} className="muted">
          {dateTime(step.at)}
        </time>
      </div>
      {details.length > 0 && (
        <dl className="step-detail">
          {details.map((d) => (
            <div key={d.key}>
              <dt>{d.label}</dt>
              <dd>{d.value}</dd>
            </div>
          ))}
        </dl>
      )}
      <EventLinks step={step} events={events} loaded={loaded} />
    </li>
  );
}

function SagaCard({ saga }: { saga: Saga }) {
  const [showEvents, setShowEvents] = useState(false);
  const resolved = useSagaEvents(saga, showEvents);
  const summary = summarizeSaga(saga);
  const typeLabel = SAGA_TYPE_LABEL[saga.saga_type] ?? saga.saga_type;
  return (
    <li className={`card saga saga-card-${saga.status}`} data-saga-id={saga.saga_id} aria-labelledby={`saga-${saga.saga_id}`}>
      <div className="saga-head">
        <h2 id={`saga-${saga.saga_id}`}>
          {typeLabel}
          {saga.order_id && (
            <>
              {' '}
              <span className="muted saga-order">
                注文{' '}
                <Link to={`/orders/${saga.order_id}`} aria-label={`注文 ${saga.order_id}`}>
                  <code>{shortId(saga.order_id)}</code>
                </Link>
              </span>
            </>
          )}
        </h2>
        <SagaStatusBadge status={saga.status} />
      </div>
      <p className="muted saga-times">
        開始 {dateTime(saga.started_at)} · 更新 {dateTime(saga.updated_at)}
      </p>
      <p className={`saga-outcome${summary.compensated ? ' compensated' : ''}`} data-testid="saga-outcome">
        {summary.outcome ? (
          <strong>{OUTCOME_LABEL[summary.outcome]}</strong>
        ) : (
          <strong>{saga.status === 'failed' ? '停止（再試行中）' : '進行中'}</strong>
        )}
        {summary.tracking_number && <> · 追跡番号 {summary.tracking_number}</>}
        {summary.dispatched_by === 'admin' && <> （管理者が手動で発送）</>}
        {summary.failure_reason && <> · 理由: {summary.failure_reason}</>}
        {summary.compensated && (
          <> · 補償: {summary.refunded_amount !== null ? `${yen(summary.refunded_amount)} を返金、` : ''}在庫を戻しました</>
        )}
      </p>
      <ol className="steps">
        {saga.steps.map((s) => (
          <Step key={s.step} step={s} events={resolved.events} loaded={showEvents ? !resolved.isPending : undefined} />
        ))}
      </ol>
      {summary.event_count > 0 && (
        <p className="saga-events-toggle">
          <button type="button" className="secondary" aria-expanded={showEvents} onClick={() => setShowEvents((v) => !v)}>
            {showEvents ? 'イベント名を隠す' : `書き込んだイベントを表示（${summary.event_count} 件）`}
          </button>
          {showEvents && resolved.isPending && <span className="muted"> 読み込み中…</span>}
        </p>
      )}
      <ProblemText error={resolved.error} />
    </li>
  );
}

export function SagasPage() {
  const [params, setParams] = useSearchParams();
  const status = params.get('status') ?? '';
  const type = params.get('type') ?? '';
  const orderId = params.get('order_id') ?? '';
  const [orderInput, setOrderInput] = useState(orderId);
  const pager = useCursorPager();
  const sagas = useSagas({ status, type, order_id: orderId, ...(pager.cursor ? { cursor: pager.cursor } : {}) });
  const set = (name: string, value: string) => {
    pager.reset();
    setParams(
      (p) => {
        const next = new URLSearchParams(p);
        if (value) next.set(name, value);
        else next.delete(name);
        return next;
      },
      { replace: true },
    );
  };
  const filterOrder = (e: FormEvent) => {
    e.preventDefault();
    set('order_id', orderInput.trim());
  };
  const filtered = !!(status || type || orderId);
  return (
    <section aria-labelledby="sagas-title">
      <h1 id="sagas-title">Saga ログ</h1>
      <p className="muted">
        支払い後の配送と、支払期限切れによる在庫引当の解除。各ステップの結果と、それが書いたイベント。配送に失敗すると補償（返金・在庫の戻し）が同じトランザクションで行われます。
      </p>
      <div className="toolbar">
        <span className="inline-field">
          <label htmlFor="saga-type">種類</label>
          <select id="saga-type" value={type} onChange={(e) => set('type', e.target.value)}>
            <option value="">すべて</option>
            {Object.entries(SAGA_TYPE_LABEL).map(([k, v]) => (
              <option key={k} value={k}>
                {v}
              </option>
            ))}
          </select>
        </span>
        <span className="inline-field">
          <label htmlFor="saga-status">結果</label>
          <select id="saga-status" value={status} onChange={(e) => set('status', e.target.value)}>
            <option value="">すべて</option>
            {(Object.keys(SAGA_STATUS_LABEL) as SagaStatus[]).map((s) => (
              <option key={s} value={s}>
                {SAGA_STATUS_LABEL[s]}
              </option>
            ))}
          </select>
        </span>
      </div>
      <form className="toolbar" onSubmit={filterOrder} role="search" aria-label="注文で絞り込み">
        <label htmlFor="saga-order">注文 ID</label>
        <input id="saga-order" value={orderInput} placeholder="注文 ID（UUID）" onChange={(e) => setOrderInput(e.target.value)} />
        <button type="submit" className="secondary">
          絞り込む
        </button>
        {orderId && (
          <button
            type="button"
            className="secondary"
            onClick={() => {
              setOrderInput('');
              set('order_id', '');
            }}
          >
            解除
          </button>
        )}
      </form>
      <QueryView query={sagas} what="Saga を読み込み中">
        {(page) => (
          <>
            {page.items.length === 0 ? (
              <p className="muted empty">
                {filtered ? '条件に合う Saga はありません。' : '記録された Saga はまだありません。注文を支払うと配送 Saga が始まります。'}
              </p>
            ) : (
              <ul className="plain sagas">
                {page.items.map((s) => (
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
