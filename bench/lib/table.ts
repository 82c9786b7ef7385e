/**
 * The one table `npm run bench` prints: a Markdown table (paste-able into the README) followed by one note per
 * row saying what exactly was measured. A measurement that failed keeps its row, with the error as its result.
 */
export interface Row {
  /** "1", "2", "4a", … — the row's number in the README's performance table. */
  id: string;
  measurement: string;
  n: string;
  result: string;
  comparison: string;
  note: string;
  /** Set when the measurement failed or one of its assertions did not hold. */
  failed?: boolean;
}

export const failedRow = (id: string, measurement: string, err: unknown): Row => ({
  id,
  measurement,
  n: '—',
  result: `ERROR: ${oneLine(err)}`,
  comparison: '—',
  note: 'the measurement did not complete; see the error',
  failed: true,
});

export function oneLine(err: unknown): string {
  const text = err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err);
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 300 ? `${line.slice(0, 297)}…` : line;
}

const cell = (text: string) => text.replaceAll('|', '\\|');

export function renderTable(rows: readonly Row[], header: { title: string; context: string[] }): string {
  const sorted = [...rows].sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
  const head = ['#', 'measurement', 'n', 'result', 'comparison / ratio'];
  const body = sorted.map((r) => [r.id, r.measurement, r.n, r.result, r.comparison].map(cell));
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const out = [
    `## ${header.title}`,
    '',
    ...header.context.map((c) => `- ${c}`),
    '',
    line(head),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...body.map(line),
    '',
    'What each row measured:',
    ...sorted.map((r) => `- **${r.id}** ${r.note}`),
  ];
  return out.join('\n');
}
