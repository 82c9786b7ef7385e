export { createNotifier, messageIdFor } from './notifier.ts';
export type { MailTransport, Notifier, NotifierLog, NotifierOptions, OutgoingMail, SendMail } from './notifier.ts';
export { createSmtpTransport } from './transport.ts';
export type { SmtpConfig, SmtpTransport } from './transport.ts';
export { orderMailKind, renderOrderMail } from '../../contexts/orders/mail.ts';
export type { OrderMail, OrderMailKind } from '../../contexts/orders/mail.ts';
export { parseOrderPlaced } from '../../contexts/orders/mail-events.ts';
