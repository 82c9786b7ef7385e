/**
 * The SMTP side of the notifier: a pooled nodemailer transport. The application only learns the server from
 * configuration (SMTP_HOST/SMTP_PORT): Mailpit under docker compose, MailDev in the embedded stack.
 */
import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool/index.js';
import type { MailTransport, OutgoingMail } from './notifier.ts';
import { withTimeout } from '../../platform/shared/timeout.ts';

export interface SmtpConfig {
  host: string;
  port: number;
  /** Implicit TLS (port 465). Off for the dev servers; STARTTLS is still used when the server offers it. */
  secure?: boolean;
  user?: string;
  pass?: string;
  /**
   * Hard bound on one send, from queueing to the server's acceptance. Default 20 s. Must stay well below the
   * notifier's claim (CLAIM_IDLE_TIMEOUT_MS in notifier.ts): a mail accepted after the claim is gone is sent
   * again on retry.
   */
  sendTimeoutMs?: number;
}

type Pooled = Transporter<SMTPPool.SentMessageInfo, SMTPPool.Options>;

export interface SmtpTransport extends MailTransport {
  sendMail(mail: OutgoingMail | Parameters<Pooled['sendMail']>[0]): Promise<SMTPPool.SentMessageInfo>;
  /** One SMTP handshake (readiness). */
  verify(): Promise<true>;
  close(): void;
}

export class SmtpTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  /** The server is slow or gone, not the mail bad: the consumer retries (messaging/retry.ts). */
  readonly transient = true;

  constructor(ms: number) {
    super(`SMTP server did not accept the message within ${ms} ms`);
    this.name = 'SmtpTimeoutError';
  }
}

/**
 * Pooled: a busy consumer reuses a few open connections instead of paying a handshake per mail. Bounded: each
 * phase has its own nodemailer timeout, but phases add up (connect, greeting, EHLO, MAIL, RCPT, DATA, the
 * final dot) and a server trickling bytes never trips an idle timer, so every send also has an overall
 * deadline. When it passes, the whole pool is closed — the connection carrying the mail is cut, so the server
 * cannot accept it afterwards — and a fresh pool serves the next mail. maxRequeues 0: nodemailer must not
 * quietly resend a message on another connection behind the notifier's back (and past its deadline).
 */
export function createSmtpTransport(config: SmtpConfig): SmtpTransport {
  const sendTimeoutMs = config.sendTimeoutMs ?? 20_000;
  const make = (): Pooled =>
    nodemailer.createTransport({
      pool: true,
      host: config.host,
      port: config.port,
      secure: config.secure ?? false,
      ...(config.user ? { auth: { user: config.user, pass: config.pass ?? '' } } : {}),
      maxConnections: 3,
      maxRequeues: 0,
      connectionTimeout: 5_000,
      greetingTimeout: 5_000,
      socketTimeout: 10_000,
    } as SMTPPool.Options);
  let pool = make();

  return {
    async sendMail(mail) {
      const current = pool;
      // After the deadline the send's rejection (the pool closed) is expected; withTimeout swallows it.
      return withTimeout(current.sendMail(mail), sendTimeoutMs, () => {
        if (pool === current) pool = make();
        // force: also the connection that carries this mail (nodemailer 10 keeps busy ones otherwise).
        (current.close as (options?: { force?: boolean }) => void)({ force: true });
        return new SmtpTimeoutError(sendTimeoutMs);
      });
    },
    verify: () => pool.verify(),
    close: () => pool.close(),
  };
}
