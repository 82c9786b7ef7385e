/**
 * A minimal Prometheus registry: counters and gauges with labels, rendered in the text exposition format.
 * Enough for /metrics on every process without pulling a client library into each one.
 */
type Labels = Record<string, string>;

interface Series {
  help: string;
  type: 'counter' | 'gauge';
  values: Map<string, { labels: Labels; value: number }>;
}

export function createMetrics() {
  const series = new Map<string, Series>();
  const get = (name: string, help: string, type: Series['type']) => {
    let s = series.get(name);
    if (!s) series.set(name, (s = { help, type, values: new Map() }));
    return s;
  };
  const key = (labels: Labels) => JSON.stringify(Object.entries(labels).sort());
  return {
    counter(name: string, help: string) {
      const s = get(name, help, 'counter');
      return {
        inc(labels: Labels = {}, by = 1) {
          const k = key(labels);
          const cur = s.values.get(k);
          if (cur) cur.value += by;
          else s.values.set(k, { labels, value: by });
        },
      };
    },
    gauge(name: string, help: string) {
      const s = get(name, help, 'gauge');
      return {
        set(value: number, labels: Labels = {}) {
          s.values.set(key(labels), { labels, value });
        },
      };
    },
    render(): string {
      const out: string[] = [];
      for (const [name, s] of series) {
        out.push(`# HELP ${name} ${s.help}`, `# TYPE ${name} ${s.type}`);
        for (const { labels, value } of s.values.values()) {
          const l = Object.entries(labels)
            .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, (ch) => (ch === '\n' ? '\\n' : `\\${ch}`))}"`)
            .join(',');
          out.push(`${name}${l ? `{${l}}` : ''} ${value}`);
        }
      }
      return `${out.join('\n')}\n`;
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
