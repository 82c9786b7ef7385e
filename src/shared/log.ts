/**
 * The logger every process writes to: one line per event, `time level [name] message key=value …`, readable
 * in a terminal (make dev interleaves six processes) and greppable. Set LOG_FORMAT=json for one JSON object
 * per line (log shippers). Fields are caller-chosen: never pass passwords, tokens or hashes (DESIGN §8).
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  level?: LogLevel;
  format?: 'text' | 'json';
  write?: (line: string) => void;
}

const show = (v: unknown): string => {
  if (v instanceof Error) return JSON.stringify(v.message);
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v);
};

export function createLogger(name: string, opts: LoggerOptions = {}): Logger {
  const env = process.env;
  const min = RANK[opts.level ?? ((env.LOG_LEVEL as LogLevel | undefined) && RANK[env.LOG_LEVEL as LogLevel] ? (env.LOG_LEVEL as LogLevel) : 'info')];
  const format = opts.format ?? (env.LOG_FORMAT === 'json' ? 'json' : 'text');
  const write = opts.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const emit = (level: LogLevel) => (message: string, fields?: LogFields) => {
    if (RANK[level] < min) return;
    const time = new Date().toISOString();
    if (format === 'json') {
      write(JSON.stringify({ time, level, logger: name, msg: message, ...fields }, (_k, v: unknown) => (v instanceof Error ? { name: v.name, message: v.message } : v)));
      return;
    }
    const rest = fields ? Object.entries(fields).map(([k, v]) => `${k}=${show(v)}`).join(' ') : '';
    write(`${time} ${level.padEnd(5)} [${name}] ${message}${rest ? ` ${rest}` : ''}`);
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}
