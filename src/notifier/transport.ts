/**
 * The SMTP side of the notifier: a pooled nodemailer transport. The application only learns the server from
 * configuration (SMTP_HOST/SMTP_PORT): Mailpit under docker compose, MailDev in the embedded stack.
 */
import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool/index.js';

export interface SmtpConfig {
  host: string;
  port: number;
  /** Implicit TLS (port 465). Off for the dev servers; STARTTLS is still used when the server offers it. */
  secure?: boolean;
  user?: string;
  pass?: string;
}

export type SmtpTransport = Transporter<SMTPPool.SentMessageInfo, SMTPPool.Options>;

/**
 * Pooled: a busy consumer reuses a few open connections instead of paying a handshake per mail. Short
 * timeouts: a hung server must fail the send (the claim is rolled back and the batch retried) well within the
 * notifier's lock and idle-transaction timeouts, instead of holding a sent_emails claim open. Call close() on
 * shutdown.
 */
export function createSmtpTransport(config: SmtpConfig): SmtpTransport {
  return nodemailer.createTransport({
    pool: true,
    host: config.host,
    port: config.port,
    secure: config.secure ?? false,
    ...(config.user ? { auth: { user: config.user, pass: config.pass ?? '' } } : {}),
    maxConnections: 3,
    connectionTimeout: 5_000,
    greetingTimeout: 5_000,
    socketTimeout: 15_000,
  });
}
