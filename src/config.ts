/**
 * Configuration is read once from the environment and validated up front: a process with a bad setting
 * stops at start with a message naming the variable, never later mid-request. Defaults match `make dev`.
 */
export interface Config {
  env: 'development' | 'production' | 'test';
  http: { host: string; port: number; bodyLimitBytes: number };
  dynamodb: { endpoint: string | undefined; region: string; tables: { events: string; snapshots: string; idempotency: string } };
  kafka: { brokers: string[]; topic: string; partitions: number };
  databaseUrl: string;
  smtp: { host: string; port: number; from: string };
  auth: { jwtSecret: string; accessTtlSeconds: number; refreshTtlSeconds: number; adminEmail: string; adminPassword: string };
  orders: { reservationTtlSeconds: number; shipmentFailureRate: number; shipmentDelayMs: number };
  links: { kafkaUi: string; mailUi: string; dynamodbAdmin: string };
  snapshotEvery: number;
}

type Env = Record<string, string | undefined>;

export class ConfigError extends Error {}

export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const str = (name: string, fallback?: string): string => {
    const value = env[name] ?? fallback;
    if (value === undefined || value === '') problems.push(`${name} is required`);
    return value ?? '';
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) problems.push(`${name} must be an integer in [${min}, ${max}], got "${raw}"`);
    return value;
  };
  const num = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max) problems.push(`${name} must be a number in [${min}, ${max}], got "${raw}"`);
    return value;
  };
  const nodeEnv = env.NODE_ENV === 'production' ? 'production' : env.NODE_ENV === 'test' ? 'test' : 'development';
  const dev = nodeEnv !== 'production';
  // Outside development a real secret and admin password are required: the dev defaults are public.
  const jwtSecret = str('JWT_SECRET', dev ? 'dev-only-secret-change-me-0123456789abcdef' : undefined);
  if (jwtSecret && jwtSecret.length < 32) problems.push('JWT_SECRET must be at least 32 characters');
  const adminPassword = str('ADMIN_PASSWORD', dev ? 'admin123' : undefined);
  const config: Config = {
    env: nodeEnv,
    http: { host: env.HOST ?? '0.0.0.0', port: int('PORT', 8080, 0, 65535), bodyLimitBytes: int('BODY_LIMIT_BYTES', 64 * 1024, 1024, 10 * 1024 * 1024) },
    dynamodb: {
      endpoint: env.DYNAMODB_ENDPOINT ?? (dev ? 'http://127.0.0.1:8000' : undefined),
      region: env.AWS_REGION ?? env.DYNAMODB_REGION ?? 'ap-northeast-1',
      tables: {
        events: env.DYNAMODB_TABLE_EVENTS ?? env.DYNAMODB_TABLE_NAME ?? 'events',
        snapshots: env.DYNAMODB_TABLE_SNAPSHOTS ?? 'event_snapshots',
        idempotency: env.DYNAMODB_TABLE_IDEMPOTENCY ?? 'idempotency_keys',
      },
    },
    kafka: {
      brokers: str('KAFKA_BROKERS', '127.0.0.1:9092').split(',').map((b) => b.trim()).filter(Boolean),
      topic: env.KAFKA_TOPIC ?? 'ec-events',
      partitions: int('KAFKA_PARTITIONS', 6, 1, 256),
    },
    databaseUrl: str('DATABASE_URL', dev ? 'postgres://ecshop:ecshop@127.0.0.1:5432/ecshop' : undefined),
    smtp: { host: env.SMTP_HOST ?? '127.0.0.1', port: int('SMTP_PORT', 1025, 1, 65535), from: env.MAIL_FROM ?? 'EC Shop <shop@ec-shop.local>' },
    auth: {
      jwtSecret,
      accessTtlSeconds: int('JWT_ACCESS_TTL_SECONDS', 15 * 60, 10, 24 * 3600),
      refreshTtlSeconds: int('JWT_REFRESH_TTL_SECONDS', 7 * 24 * 3600, 60, 90 * 24 * 3600),
      adminEmail: (env.ADMIN_EMAIL ?? 'admin@example.com').toLowerCase(),
      adminPassword,
    },
    orders: {
      reservationTtlSeconds: int('RESERVATION_TTL_SECONDS', 15 * 60, 1, 7 * 24 * 3600),
      shipmentFailureRate: num('SHIPMENT_FAILURE_RATE', 0.1, 0, 1),
      // How long the simulated carrier takes to answer a hand-over (the fulfilment saga's durable timer).
      shipmentDelayMs: int('SHIPMENT_DELAY_MS', 2000, 0, 7 * 24 * 3600 * 1000),
    },
    links: {
      kafkaUi: env.KAFKA_UI_URL ?? '',
      mailUi: env.MAIL_UI_URL ?? env.MAILPIT_URL ?? 'http://127.0.0.1:1080',
      dynamodbAdmin: env.DYNAMODB_ADMIN_URL ?? '',
    },
    snapshotEvery: int('SNAPSHOT_EVERY', 100, 2, 100_000),
  };
  if (problems.length) throw new ConfigError(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  return config;
}
