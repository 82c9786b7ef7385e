/**
 * The logger every process writes to, on pino (a kept library: levels, fast serialisation, one JSON object per
 * line for log shippers). The interface stays the project's own four methods, `log.info(message, fields)`, so
 * call sites never import pino.
 *
 * Output: LOG_FORMAT=json gives pino's JSON lines; the default is one readable line per event,
 * `time level [name] message key=value …`, because make dev interleaves six processes in one terminal (and
 * tests grep those lines).
 *
 * Redaction is one policy, applied here to every line whatever the caller passed (redactSecrets below): values
 * under keys that name a secret are replaced, and credentials inside strings (a URL's password, a bearer token)
 * are cut out, in fields and in the message.
 */
import { pino, type DestinationStream } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: 'text' | 'json';
  /** Receives each finished line (without the newline) instead of stdout. */
  write?: (line: string) => void;
}

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
const isLevel = (v: unknown): v is LogLevel => typeof v === 'string' && (LEVELS as readonly string[]).includes(v);

export const REDACTED = '[redacted]';
/** Keys whose values are secrets whatever they hold. */
const SECRET_KEY =
  /pass(word|wd|phrase)?$|password|secret|token|authorization|cookie|api[-_]?key|private[-_]?key|credential|_hash$|^hash$|signature/i;
/** `scheme://user:password@host` → the password; `Bearer <token>`; a JWT anywhere. */
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]+@/gi;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g;
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g;

/** Whether a key names a secret (the one list: logs replace its value, data shown to users drops the key). */
export const isSecretKey = (key: string): boolean => SECRET_KEY.test(key);

/**
 * The same policy for data handed to people (the event log, the event API, time travel): a copy of a JSON value
 * with every secret-named key removed at any depth, so not even the key's presence shows.
 */
export function withoutSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSecrets);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .filter(([key]) => !isSecretKey(key))
      .map(([key, v]) => [key, withoutSecrets(v)]),
  );
}

export const redactString = (s: string): string =>
  s.replace(URL_CREDENTIALS, `$1${REDACTED}@`).replace(BEARER, `$1 ${REDACTED}`).replace(JWT, REDACTED);

/**
 * The project's one redaction policy: a copy of `value` with secrets replaced. Errors become plain objects
 * (name, message, code, stack), since JSON drops their fields; depth and width are bounded so a huge or cyclic
 * value cannot stall a log call.
 */
export function redactSecrets(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactString(value);
  if (typeof value !== 'object' || value === null) return typeof value === 'bigint' ? value.toString() : value;
  if (seen.has(value)) return '[circular]';
  if (depth > 6) return '[nested too deep]';
  seen.add(value);
  if (value instanceof Error) {
    const e = value as Error & { code?: unknown; cause?: unknown };
    return {
      type: e.name,
      message: redactString(e.message),
      ...(e.code !== undefined ? { code: e.code } : {}),
      ...(e.stack ? { stack: redactString(e.stack) } : {}),
      ...(e.cause !== undefined ? { cause: redactSecrets(e.cause, depth + 1, seen) } : {}),
    };
  }
  if (Array.isArray(value)) return value.slice(0, 100).map((v) => redactSecrets(v, depth + 1, seen));
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return `[${value.length} bytes]`;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value).slice(0, 200)) {
    out[k] = SECRET_KEY.test(k) && v !== null && v !== undefined && v !== '' ? REDACTED : redactSecrets(v, depth + 1, seen);
  }
  return out;
}

const showText = (v: unknown): string => {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  // An error (as redactSecrets made it) reads best as its message; the stack is in the JSON format.
  if (typeof v === 'object' && v !== null && 'type' in v && 'message' in v) {
    const e = v as { message: unknown; code?: unknown };
    return JSON.stringify(e.code !== undefined ? `${String(e.message)} (${String(e.code)})` : e.message);
  }
  return JSON.stringify(v);
};

/** pino's JSON line → `time level [name] message key=value …`. */
function textLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.trimEnd();
  }
  const { time, level, logger, msg, pid: _pid, ...fields } = entry;
  const rest = Object.entries(fields)
    .map(([k, v]) => `${k}=${showText(v)}`)
    .join(' ');
  return `${String(time)} ${String(level).padEnd(5)} [${String(logger)}] ${String(msg ?? '')}${rest ? ` ${rest}` : ''}`;
}

export function createLogger(name: string, opts: LoggerOptions = {}): Logger {
  const env = process.env;
  const level: LogLevel = opts.level ?? (isLevel(env.LOG_LEVEL) ? env.LOG_LEVEL : 'info');
  const format = opts.format ?? (env.LOG_FORMAT === 'json' ? 'json' : 'text');
  const write = opts.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  // Synchronous: a process that exits right after logging (a fatal start-up error) must not lose the line.
  const destination: DestinationStream = {
    write: (json: string) => write(format === 'json' ? json.trimEnd() : textLine(json)),
  };
  const base = pino(
    {
      level,
      base: { logger: name, pid: process.pid },
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (fields) => redactSecrets(fields) as Record<string, unknown>,
      },
    },
    destination,
  );
  const emit = (lvl: LogLevel) => (message: string, fields?: LogFields) => {
    if (!base.isLevelEnabled(lvl)) return;
    base[lvl](fields ?? {}, redactString(message));
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}
