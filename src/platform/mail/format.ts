/**
 * Pure formatting for customer mail: money, dates, HTML escaping. Deterministic on every machine (no locale,
 * no ICU time-zone data, no clock), so the templates are testable byte for byte.
 */

/** Integer yen as `¥2,000`. Grouping is done by hand so the output never depends on the runtime's locale data. */
export const formatYen = (amount: number): string => {
  if (!Number.isSafeInteger(amount)) throw new TypeError(`yen amount must be an integer, got ${amount}`);
  const digits = String(Math.abs(amount)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${amount < 0 ? '-' : ''}¥${digits}`;
};

/** Japan has had no daylight saving time since 1951: JST is a fixed UTC+9, so no tz database is needed. */
const JST_OFFSET_MS = 9 * 60 * 60 * 1000;
const pad = (n: number): string => String(n).padStart(2, '0');

/** An ISO-8601 instant as `2024年10月18日 21:30 (日本時間)`; throws on anything that is not a date-time. */
export const formatJst = (iso: string): string => {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new TypeError(`not an ISO-8601 date-time: ${JSON.stringify(iso)}`);
  const d = new Date(ms + JST_OFFSET_MS);
  return `${d.getUTCFullYear()}年${d.getUTCMonth() + 1}月${d.getUTCDate()}日 ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} (日本時間)`;
};

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attribute values alike. */
export const escapeHtml = (value: string | number): string => String(value).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);

/**
 * Subjects become a header: a CR/LF smuggled in through data would be header injection. nodemailer encodes
 * headers, but a template must not depend on the transport to stay safe.
 */
// eslint-disable-next-line no-control-regex
export const singleLineText = (value: string): string => value.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
