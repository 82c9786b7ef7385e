/**
 * Errors the domain and the application raise. They carry a kind, not an HTTP status: the HTTP layer
 * maps kinds to statuses in one place (src/platform/http/problem.ts), so domain code stays free of transport.
 */
export type ErrorKind =
  | 'validation' // 400/422: the input is malformed or breaks a rule that needs no state
  | 'unauthorized' // 401
  | 'forbidden' // 403
  | 'not_found' // 404
  | 'conflict' // 409: the command is illegal in the current state (illegal transition, insufficient stock)
  | 'concurrency' // 409: optimistic lock lost after retries
  | 'too_large' // 413
  | 'rate_limited' // 429
  | 'unavailable'; // 503

export interface FieldError {
  field: string;
  message: string;
}

export class AppError extends Error {
  readonly kind: ErrorKind;
  /** Stable machine-readable code, e.g. `insufficient_stock`, `illegal_transition`. */
  readonly code: string;
  readonly errors: FieldError[] | undefined;
  readonly extra: Record<string, unknown> | undefined;

  constructor(kind: ErrorKind, code: string, message: string, opts: { errors?: FieldError[]; extra?: Record<string, unknown> } = {}) {
    super(message);
    this.name = 'AppError';
    this.kind = kind;
    this.code = code;
    this.errors = opts.errors;
    this.extra = opts.extra;
  }
}

export const validationError = (message: string, errors?: FieldError[]) =>
  new AppError('validation', 'validation_failed', message, errors ? { errors } : {});
export const notFound = (what: string, id: string) => new AppError('not_found', 'not_found', `${what} ${id} not found`);
export const conflict = (code: string, message: string, extra?: Record<string, unknown>) =>
  new AppError('conflict', code, message, extra ? { extra } : {});
