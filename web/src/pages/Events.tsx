import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { useEvents } from '../api/queries.ts';
import { Json, QueryView } from '../components/ui.tsx';
import { AGGREGATE_TYPES, dateTime, EVENT_TYPES, eventLabel, shortId } from '../lib/format.ts';

export function EventsPage() {
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const type = params.get('type') ?? '';
  const aggregateType = params.get('aggregate_type') ?? '';
  const [befores, setBefores] = useState<string[]>([]);
  const [aggregateId, setAggregateId] = useState('');
  const events = useEvents({ type, aggregate_type: aggregateType, ...(befores.length ? { before: befores.at(-1)! } : {}) });
  const set = (name: string, value: string) => {
    setBefores([]);
    setParams((p) => {
      const next = new URLSearchParams(p);
      if (value) next.set(name, value);
      else next.delete(name);
      return next;
    });
  };
  const openStream = (e: FormEvent) => {
    e.preventDefault();
    if (aggregateId.trim()) navigate(`/events/${encodeURIComponent(aggregateId.trim())}`);
  };
  return (
    <section aria-labelledby="events-title">
      <h1 id="events-title">イベントログ</h1>
      <p className="muted">
        すべての集約のイベント（新しい順）。状態はこのイベントの積み重ねから作られます。集約 ID
        を開くと、その時点の状態へタイムトラベルできます。
      </p>
      <div className="toolbar">
        <label htmlFor="event-type">イベント種別</label>
        <select id="event-type" value={type} onChange={(e) => set('type', e.target.value)}>
          <option value="">すべて</option>
          {EVENT_TYPES.map((t) => (
            <option key={t} value={t}>
              {t}（{eventLabel(t)}）
            </option>
          ))}
        </select>
        <label htmlFor="aggregate-type">集約種別</label>
        <select id="aggregate-type" value={aggregateType} onChange={(e) => set('aggregate_type', e.target.value)}>
          <option value="">すべて</option>
          {AGGREGATE_TYPES.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
      </div>
      <form className="toolbar" onSubmit={openStream}>
        <label htmlFor="aggregate-id">集約 ID</label>
        <input
          id="aggregate-id"
          placeholder="注文 ID、商品 ID、inventory-…、cart-…"
          value={aggregateId}
          onChange={(e) => setAggregateId(e.target.value)}
        />
        <button type="submit">ストリームを開く</button>
      </form>
      <QueryView query={events} what="イベントを読み込み中">
        {(page) => (
          <>
            <div className="table-wrap">
              <table className="events">
                <caption className="sr-only">イベント</caption>
                <thead>
                  <tr>
                    <th scope="col">日時</th>
                    <th scope="col">イベント</th>
                    <th scope="col">集約</th>
                    <th scope="col" className="num">
                      版
                    </th>
                    <th scope="col">データ</th>
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((e) => (
                    <tr key={e.event_id}>
                      <td>{dateTime(e.created_at)}</td>
                      <td>
                        <strong>{e.event_type}</strong>
                        <div className="muted">{eventLabel(e.event_type)}</div>
                      </td>
                      <td>
                        {e.aggregate_type}
                        <div>
                          <Link
                            to={`/events/${encodeURIComponent(e.aggregate_id)}?version=${e.version}`}
                            aria-label={`${e.aggregate_type} ${e.aggregate_id} の v${e.version}`}
                          >
                            <code>{shortId(e.aggregate_id)}</code>
                          </Link>
                        </div>
                      </td>
                      <td className="num">{e.version}</td>
                      <td>
                        <Json value={e.data} summary="data" />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {page.items.length === 0 && <p className="muted">該当するイベントはありません。</p>}
            <nav className="pager" aria-label="イベントログのページ">
              <button type="button" onClick={() => setBefores((b) => b.slice(0, -1))} disabled={befores.length === 0}>
                ← 新しいイベント
              </button>
              <button
                type="button"
                onClick={() => page.next_before && setBefores((b) => [...b, page.next_before!])}
                disabled={!page.next_before}
              >
                古いイベント →
              </button>
            </nav>
          </>
        )}
      </QueryView>
    </section>
  );
}
