import { useDeadLetters, useLag, useLinks, useReadiness } from '../api/queries.ts';
import { ProblemText, QueryView } from '../components/ui.tsx';
import { dateTime, num } from '../lib/format.ts';

const CHECK_LABEL: Record<string, string> = {
  dynamodb: 'DynamoDB（イベントストア）',
  postgres: 'PostgreSQL（リードモデル）',
  kafka: 'Kafka（ブローカー）',
};
const GROUP_LABEL: Record<string, string> = {
  projector: 'リードモデル投影',
  'email-notifier': 'メール通知',
  fulfillment: '配送・期限タイマー',
};

function Health() {
  const ready = useReadiness();
  return (
    <section className="card" aria-labelledby="health-title">
      <h2 id="health-title">依存サービスの状態</h2>
      <QueryView query={ready}>
        {(r) => (
          <>
            <p>
              api: <strong className={r.status === 'ready' ? 'ok' : 'bad'}>{r.status === 'ready' ? '稼働中' : '準備未完了'}</strong>
            </p>
            <ul className="plain checks">
              {Object.entries(r.checks).map(([name, ok]) => (
                <li key={name}>
                  <span className={ok ? 'dot ok' : 'dot bad'} aria-hidden="true">
                    ●
                  </span>{' '}
                  {CHECK_LABEL[name] ?? name}: {ok ? '正常' : '応答なし'}
                </li>
              ))}
            </ul>
          </>
        )}
      </QueryView>
    </section>
  );
}

function Lag() {
  const lag = useLag();
  return (
    <section className="card wide" aria-labelledby="lag-title">
      <h2 id="lag-title">コンシューマーグループの遅延（3 秒ごとに更新）</h2>
      {lag.dataUpdatedAt > 0 && <p className="muted">最終更新 {dateTime(new Date(lag.dataUpdatedAt).toISOString())}</p>}
      {lag.error && lag.data && <ProblemText error={lag.error} />}
      <QueryView query={lag}>
        {(report) => (
          <>
            <p>
              トピック <code>{report.topic}</code> · 未処理の合計 <strong data-testid="total-lag">{num(report.total_lag)}</strong> 件
            </p>
            <div className="groups">
              {report.groups.map((g) => (
                <div key={g.group} className="group">
                  <h3>
                    {g.group} <span className="muted">{GROUP_LABEL[g.group] ?? ''}</span>
                  </h3>
                  <p className="muted">
                    状態 {g.state} · メンバー {g.members} · 遅延 {num(g.total_lag)}
                  </p>
                  <div className="table-wrap">
                    <table>
                      <caption className="sr-only">{g.group} のパーティションごとの遅延</caption>
                      <thead>
                        <tr>
                          <th scope="col">パーティション</th>
                          <th scope="col" className="num">
                            コミット済み
                          </th>
                          <th scope="col" className="num">
                            末尾
                          </th>
                          <th scope="col" className="num">
                            遅延
                          </th>
                        </tr>
                      </thead>
                      <tbody>
                        {g.partitions.map((p) => (
                          <tr key={p.partition} className={p.lag > 0 ? 'lagging' : undefined}>
                            <td>{p.partition}</td>
                            <td className="num">{p.committed_offset ?? '—'}</td>
                            <td className="num">{p.end_offset}</td>
                            <td className="num">{p.lag}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </div>
                </div>
              ))}
            </div>
          </>
        )}
      </QueryView>
    </section>
  );
}

function DeadLetters() {
  const dlq = useDeadLetters();
  return (
    <section className="card" aria-labelledby="dlq-title">
      <h2 id="dlq-title">デッドレター（DLQ）</h2>
      <QueryView query={dlq}>
        {(d) => (
          <>
            <p>
              <code>{d.topic}</code>: <strong data-testid="dlq-total">{num(d.total)}</strong> 件
              {d.total === 0 ? '（処理できなかったメッセージはありません）' : '（デコードできない、または再試行しても失敗したメッセージ）'}
            </p>
            {d.total > 0 && (
              <ul className="plain">
                {d.partitions
                  .filter((p) => p.messages > 0)
                  .map((p) => (
                    <li key={p.partition}>
                      パーティション {p.partition}: {p.messages} 件
                    </li>
                  ))}
              </ul>
            )}
          </>
        )}
      </QueryView>
    </section>
  );
}

function Links() {
  const links = useLinks();
  const items: Array<[string, string | undefined]> = [
    ['メール受信箱（MailDev / Mailpit）', links.data?.mailUi],
    ['Kafka UI', links.data?.kafkaUi],
    ['DynamoDB Admin', links.data?.dynamodbAdmin],
  ];
  return (
    <section className="card" aria-labelledby="links-title">
      <h2 id="links-title">ツール</h2>
      <ul className="plain">
        {items.map(([label, url]) => (
          <li key={label}>
            {url ? (
              <a href={url} target="_blank" rel="noreferrer">
                {label}
              </a>
            ) : (
              <span>
                {label} <span className="muted">（この環境にはありません。make up で起動します）</span>
              </span>
            )}
          </li>
        ))}
        <li>
          <a href="/metrics">Prometheus メトリクス（/metrics）</a>
        </li>
      </ul>
    </section>
  );
}

export function OpsPage() {
  return (
    <section aria-labelledby="ops-title">
      <h1 id="ops-title">運用</h1>
      <div className="ops-grid">
        <Health />
        <DeadLetters />
        <Links />
        <Lag />
      </div>
    </section>
  );
}
