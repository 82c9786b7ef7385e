import { useId, useMemo, useState, type ReactNode } from 'react';
import { isApiError } from '../api/client.ts';
import type { OrderStatus, SagaStatus, SagaStepStatus } from '../api/types.ts';
import { ORDER_STATUS_LABEL, SAGA_STATUS_LABEL, STEP_STATUS_LABEL } from '../lib/format.ts';

/** A problem's `detail` (the api's own message), shown where it happened; field errors are listed below it. */
export function ProblemText({ error, id, title }: { error: unknown; id?: string; title?: string }) {
  if (!error) return null;
  const detail = isApiError(error) ? error.problem.detail : error instanceof Error ? error.message : String(error);
  const fields = isApiError(error) ? (error.problem.errors ?? []) : [];
  return (
    <div className="problem" role="alert" id={id}>
      {title && <strong className="problem-title">{title}: </strong>}
      <span>{detail}</span>
      {fields.length > 0 && (
        <ul>
          {fields.map((f) => (
            <li key={f.field + f.message}>
              <code>{f.field}</code>: {f.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Loading({ what = '読み込み中' }: { what?: string }) {
  return (
    <p className="muted" role="status">
      {what}…
    </p>
  );
}

/** Query state in one line: loading, the error's detail, or the content. */
export function QueryView<T>({
  query,
  children,
  what,
}: {
  query: { data: T | undefined; error: unknown; isPending: boolean };
  children: (data: T) => ReactNode;
  what?: string;
}) {
  if (query.isPending) return <Loading {...(what ? { what } : {})} />;
  if (query.error && query.data === undefined) return <ProblemText error={query.error} />;
  return <>{query.data !== undefined && children(query.data)}</>;
}

export function OrderStatusBadge({ status }: { status: OrderStatus }) {
  return <span className={`badge status-${status}`}>{ORDER_STATUS_LABEL[status] ?? status}</span>;
}

export function SagaStatusBadge({ status }: { status: SagaStatus }) {
  return <span className={`badge saga-${status}`}>{SAGA_STATUS_LABEL[status] ?? status}</span>;
}

export function StepStatusIcon({ status }: { status: SagaStepStatus }) {
  const icon = status === 'completed' ? '✓' : status === 'failed' ? '✗' : '–';
  return (
    <span className={`step-icon step-${status}`} title={STEP_STATUS_LABEL[status]}>
      <span aria-hidden="true">{icon}</span>
      <span className="sr-only">{STEP_STATUS_LABEL[status]}</span>
    </span>
  );
}

/** Keyset paging: remembers the cursors walked so far, so "前へ" goes back without offsets. */
export function useCursorPager() {
  const [stack, setStack] = useState<string[]>([]);
  const actions = useMemo(
    () => ({
      next: (cursor: string) => setStack((s) => [...s, cursor]),
      prev: () => setStack((s) => s.slice(0, -1)),
      reset: () => setStack((s) => (s.length ? [] : s)),
    }),
    [],
  );
  return { cursor: stack.at(-1), page: stack.length + 1, ...actions };
}

export function Pager({
  pager,
  nextCursor,
  label,
}: {
  pager: ReturnType<typeof useCursorPager>;
  nextCursor: string | null | undefined;
  label: string;
}) {
  if (pager.page === 1 && !nextCursor) return null;
  return (
    <nav className="pager" aria-label={`${label}のページ`}>
      <button type="button" onClick={pager.prev} disabled={pager.page === 1}>
        ← 前へ
      </button>
      <span>{pager.page} ページ</span>
      <button type="button" onClick={() => nextCursor && pager.next(nextCursor)} disabled={!nextCursor}>
        次へ →
      </button>
    </nav>
  );
}

/** JSON for people: pretty-printed, collapsible when long. */
export function Json({ value, summary, open }: { value: unknown; summary?: string; open?: boolean }) {
  const text = JSON.stringify(value, null, 2);
  if (!summary) return <pre className="json">{text}</pre>;
  return (
    <details className="json-details" open={open}>
      <summary>{summary}</summary>
      <pre className="json">{text}</pre>
    </details>
  );
}

/** A labelled input: the label is the control's accessible name. */
export function Field({ label, hint, children }: { label: string; hint?: string; children: (id: string) => ReactNode }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children(id)}
      {hint && <small className="muted">{hint}</small>}
    </div>
  );
}

export function Forbidden() {
  return (
    <section className="card" aria-labelledby="forbidden-title">
      <h1 id="forbidden-title">このページは管理者専用です</h1>
      <p>管理者アカウントでログインすると、商品・在庫・注文の管理、イベントログ、Saga ログ、ダッシュボード、運用画面を使えます。</p>
      <p>
        <a href="#/products">商品一覧へ戻る</a>
      </p>
    </section>
  );
}
