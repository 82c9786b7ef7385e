import { useState, type FormEvent } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { useSession } from '../api/context.tsx';
import { useAggregateState, useStream } from '../api/queries.ts';
import type { Stream } from '../api/types.ts';
import { Json, ProblemText, QueryView } from '../components/ui.tsx';
import { dateTime, eventLabel } from '../lib/format.ts';

/** A local date-time input value (YYYY-MM-DDTHH:mm:ss) for an instant, and back. */
const toLocalInput = (iso: string) => {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
};

function TimeTravel({ stream }: { stream: Stream }) {
  const [params, setParams] = useSearchParams();
  const max = stream.version;
  const requested = Number(params.get('version'));
  const at = params.get('at') ?? undefined;
  const version = Number.isInteger(requested) && requested >= 1 && requested <= max ? requested : max;
  const point = at ? { at } : { version };
  const state = useAggregateState(stream.aggregate_id, point);
  const [atInput, setAtInput] = useState(
    at ? toLocalInput(at) : toLocalInput(stream.events.at(-1)?.created_at ?? new Date().toISOString()),
  );
  const shownVersion = state.data?.version ?? version;
  const go = (v: number) => setParams({ version: String(Math.min(max, Math.max(1, v))) }, { replace: true });
  const travelTo = (e: FormEvent) => {
    e.preventDefault();
    const instant = new Date(atInput);
    if (!Number.isNaN(instant.getTime())) setParams({ at: instant.toISOString() }, { replace: true });
  };
  return (
    <div className="time-travel">
      <section className="card" aria-labelledby="travel-title">
        <h2 id="travel-title">タイムトラベル</h2>
        <div className="slider">
          <button
            type="button"
            className="secondary"
            onClick={() => go(shownVersion - 1)}
            disabled={shownVersion <= 1}
            aria-label="ひとつ前のバージョン"
          >
            ◀
          </button>
          <label htmlFor="version-slider" className="sr-only">
            バージョン
          </label>
          <input
            id="version-slider"
            type="range"
            min={1}
            max={max}
            step={1}
            value={Math.max(1, shownVersion)}
            onChange={(e) => go(Number(e.target.value))}
            aria-valuetext={`バージョン ${shownVersion} / ${max}`}
          />
          <button
            type="button"
            className="secondary"
            onClick={() => go(shownVersion + 1)}
            disabled={shownVersion >= max}
            aria-label="ひとつ後のバージョン"
          >
            ▶
          </button>
          <output htmlFor="version-slider" className="version-output" data-testid="travel-version">
            v{shownVersion} / v{max}
          </output>
        </div>
        <form className="toolbar" onSubmit={travelTo}>
          <label htmlFor="travel-at">時刻で指定</label>
          <input id="travel-at" type="datetime-local" step={1} value={atInput} onChange={(e) => setAtInput(e.target.value)} />
          <button type="submit" className="secondary">
            この時刻の状態
          </button>
        </form>
        <ProblemText error={state.error} />
        {state.data && (
          <>
            <p>
              {state.data.at ? `${dateTime(state.data.at)} 時点` : `バージョン ${state.data.version} 時点`}の状態
              {!state.data.exists && '（まだ存在しません）'}
            </p>
            <Json value={state.data.state} />
          </>
        )}
      </section>
      <section className="card" aria-labelledby="stream-events-title">
        <h2 id="stream-events-title">イベント（{stream.events.length} 件）</h2>
        <ol className="stream">
          {stream.events.map((e) => (
            <li
              key={e.event_id}
              className={e.version <= shownVersion ? 'applied' : 'future'}
              aria-current={e.version === shownVersion ? 'step' : undefined}
            >
              <button type="button" className="link" onClick={() => go(e.version)} aria-label={`v${e.version} ${e.event_type} の時点へ`}>
                v{e.version}
              </button>{' '}
              <strong>{e.event_type}</strong>{' '}
              <span className="muted">
                {eventLabel(e.event_type)} · {dateTime(e.created_at)}
              </span>
              <Json value={e.data} summary="data" />
            </li>
          ))}
        </ol>
      </section>
    </div>
  );
}

export function StreamPage() {
  const { id = '' } = useParams();
  const stream = useStream(id);
  const session = useSession();
  return (
    <section aria-labelledby="stream-title">
      <p>{session?.user.role === 'admin' ? <Link to="/events">← イベントログ</Link> : <Link to="/orders">← 注文履歴</Link>}</p>
      <h1 id="stream-title">
        ストリーム <code>{id}</code>
      </h1>
      <QueryView query={stream} what="ストリームを読み込み中">
        {(s) => (
          <>
            <p className="muted">
              {s.aggregate_type} · 現在のバージョン {s.version}
              。スライダーで過去のバージョンへ戻ると、その時点までのイベントだけを畳み込んだ状態を表示します。
            </p>
            <TimeTravel stream={s} />
          </>
        )}
      </QueryView>
    </section>
  );
}
