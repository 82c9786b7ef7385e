/**
 * One layout for every order mail, in plain text and HTML. Templates describe a mail as data (heading,
 * paragraphs, facts) and never write markup: escaping happens here, in one place, for every value, so no
 * template can forget it.
 */
import { escapeHtml, formatYen } from '../../platform/mail/format.ts';
import type { OrderPlacedData } from './events.ts';

export interface MailContent {
  subject: string;
  heading: string;
  /** Plain text; newlines are rendered as <br> in HTML. */
  paragraphs: string[];
  /** Label/value pairs shown as a small table: order number, amounts, dates, tracking number, reason (may span lines). */
  facts: ReadonlyArray<readonly [label: string, value: string]>;
  /** The order whose items are listed. */
  order: OrderPlacedData;
}

const SIGNATURE = ['EC Shop', 'このメールは送信専用アドレスからお送りしています。ご返信いただいてもお答えできません。'];

export function renderText(c: MailContent): string {
  const lines = [c.heading, ''];
  for (const p of c.paragraphs) lines.push(p, '');
  for (const [label, value] of c.facts) lines.push(`${label}: ${value}`);
  lines.push('', '■ ご注文内容');
  for (const item of c.order.items) {
    lines.push(`・${item.name}`, `    ${formatYen(item.price)} × ${item.quantity} = ${formatYen(item.subtotal)}`);
  }
  lines.push(`合計: ${formatYen(c.order.total)}`, '', '――――――――――――――――', ...SIGNATURE, '');
  return lines.join('\n');
}

const h = (value: string | number): string => escapeHtml(value);
/** Escaped, with line breaks kept: a customer's multi-line reason must not collapse into one line. */
const hLines = (text: string): string => h(text).replace(/\r?\n/g, '<br>');
const paragraph = (text: string): string => `<p>${hLines(text)}</p>`;
const CELL = 'style="padding:4px 8px;border:1px solid #ddd;text-align:left"';
const NUM = 'style="padding:4px 8px;border:1px solid #ddd;text-align:right"';

export function renderHtml(c: MailContent): string {
  const facts = c.facts.map(([label, value]) => `<tr><th ${CELL}>${h(label)}</th><td ${CELL}>${hLines(value)}</td></tr>`).join('\n');
  const items = c.order.items
    .map(
      (item) =>
        `<tr><td ${CELL}>${h(item.name)}</td><td ${NUM}>${h(formatYen(item.price))}</td><td ${NUM}>${h(item.quantity)}</td><td ${NUM}>${h(formatYen(item.subtotal))}</td></tr>`,
    )
    .join('\n');
  return [
    '<!DOCTYPE html>',
    '<html lang="ja">',
    `<head><meta charset="utf-8"><title>${h(c.subject)}</title></head>`,
    '<body style="font-family:sans-serif;color:#222;line-height:1.6">',
    `<h1 style="font-size:20px">${h(c.heading)}</h1>`,
    ...c.paragraphs.map(paragraph),
    `<table style="border-collapse:collapse;margin:12px 0">\n${facts}\n</table>`,
    '<h2 style="font-size:16px">ご注文内容</h2>',
    '<table style="border-collapse:collapse">',
    `<thead><tr><th ${CELL}>商品</th><th ${NUM}>単価</th><th ${NUM}>数量</th><th ${NUM}>小計</th></tr></thead>`,
    `<tbody>\n${items}\n</tbody>`,
    `<tfoot><tr><th ${CELL} colspan="3">合計</th><td ${NUM}>${h(formatYen(c.order.total))}</td></tr></tfoot>`,
    '</table>',
    `<p style="color:#777;font-size:12px">${SIGNATURE.map(h).join('<br>')}</p>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
