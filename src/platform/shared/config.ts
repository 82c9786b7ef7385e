import { isIP } from 'node:net';

/**
 * Configuration is read once from the environment and validated up front: a process with a bad setting
 * stops at start with a message naming the variable, never later mid-request. Endpoint defaults match
 * `make dev`; secrets have no default anywhere in the code (the dev launcher, the tests and `make up` generate
 * them), and anything but `NODE_ENV=development` gets the production rules for them.
 */
export interface Config {
  env: 'development' | 'production' | 'test';
  http: { host: string; port: number; bodyLimitBytes: number };
  dynamodb: {
    endpoint: string | undefined;
    region: string;
    tables: { events: string; snapshots: string; idempotency: string; auth: string };
  };
  kafka: { brokers: string[]; topic: string; dlqTopic: string; partitions: number };
  databaseUrl: string;
  smtp: { host: string; port: number; from: string };
  auth: { jwtSecret: string; accessTtlSeconds: number; refreshTtlSeconds: number; adminEmail: string; adminPassword: string };
  orders: { reservationTtlSeconds: number; shipmentFailureRate: number; shipmentDelayMs: number };
  links: { kafkaUi: string; mailUi: string; dynamodbAdmin: string };
  snapshotEvery: number;
  security: SecurityConfig;
}

type Env = Record<string, string | undefined>;

export class ConfigError extends Error {}

export interface LoadOptions {
  /**
   * false for a process that signs and verifies no tokens and seeds no admin (`npm run rebuild`): it then
   * needs neither JWT_SECRET nor ADMIN_PASSWORD, and `auth.jwtSecret` / `auth.adminPassword` are empty.
   */
  secrets?: boolean;
}

/**
 * KAFKA_TOPIC (default ec-events) and KAFKA_DLQ_TOPIC (default <topic>.dlq). The one place the topic names are
 * written: every producer, consumer, the lag monitor, the DLQ admin and ensureTopics take them from the config
 * (src/platform/messaging/topics.test.ts keeps the literal out of the rest of the code), tests from here.
 */
export function kafkaTopics(env: Env = process.env): { topic: string; dlqTopic: string } {
  const topic = env.KAFKA_TOPIC || 'ec-events';
  return { topic, dlqTopic: env.KAFKA_DLQ_TOPIC || `${topic}.dlq` };
}

export function loadConfig(env: Env = process.env, opts: LoadOptions = {}): Config {
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
    if (!Number.isInteger(value) || value < min || value > max)
      problems.push(`${name} must be an integer in [${min}, ${max}], got "${raw}"`);
    return value;
  };
  const num = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max) problems.push(`${name} must be a number in [${min}, ${max}], got "${raw}"`);
    return value;
  };
  // Only an explicit `development` is development: an unset or misspelt NODE_ENV must not weaken anything.
  const nodeEnv = env.NODE_ENV === 'development' ? 'development' : env.NODE_ENV === 'test' ? 'test' : 'production';
  const dev = nodeEnv !== 'production';
  const adminEmail = (env.ADMIN_EMAIL ?? 'admin@example.com').toLowerCase();
  const secrets =
    opts.secrets === false
      ? { jwtSecret: env.JWT_SECRET ?? '', adminPassword: env.ADMIN_PASSWORD ?? '' }
      : {
          jwtSecret: str('JWT_SECRET'),
          adminPassword: str('ADMIN_PASSWORD'),
        };
  if (opts.secrets !== false) problems.push(...secretProblems(secrets, { development: env.NODE_ENV === 'development', adminEmail }));
  const { jwtSecret, adminPassword } = secrets;
  const config: Config = {
    env: nodeEnv,
    // Loopback unless told otherwise (HOST=0.0.0.0 in a container, behind a proxy): a dev shop is not for the LAN.
    http: {
      host: env.HOST || '127.0.0.1',
      port: int('PORT', 8080, 0, 65535),
      bodyLimitBytes: int('BODY_LIMIT_BYTES', 64 * 1024, 1024, 10 * 1024 * 1024),
    },
    dynamodb: {
      endpoint: env.DYNAMODB_ENDPOINT ?? (dev ? 'http://127.0.0.1:8000' : undefined),
      region: env.AWS_REGION ?? env.DYNAMODB_REGION ?? 'ap-northeast-1',
      tables: {
        events: env.DYNAMODB_TABLE_EVENTS ?? env.DYNAMODB_TABLE_NAME ?? 'events',
        snapshots: env.DYNAMODB_TABLE_SNAPSHOTS ?? 'event_snapshots',
        idempotency: env.DYNAMODB_TABLE_IDEMPOTENCY ?? 'idempotency_keys',
        auth: env.DYNAMODB_TABLE_AUTH ?? 'auth',
      },
    },
    kafka: {
      brokers: str('KAFKA_BROKERS', '127.0.0.1:9092')
        .split(',')
        .map((b) => b.trim())
        .filter(Boolean),
      ...kafkaTopics(env),
      partitions: int('KAFKA_PARTITIONS', 6, 1, 256),
    },
    // No default: it holds a password, and each embedded stack generates its own.
    databaseUrl: str('DATABASE_URL'),
    smtp: {
      host: env.SMTP_HOST ?? '127.0.0.1',
      port: int('SMTP_PORT', 1025, 1, 65535),
      from: env.MAIL_FROM ?? 'EC Shop <shop@ec-shop.local>',
    },
    auth: {
      jwtSecret,
      accessTtlSeconds: int('JWT_ACCESS_TTL_SECONDS', 15 * 60, 10, 24 * 3600),
      refreshTtlSeconds: int('JWT_REFRESH_TTL_SECONDS', 7 * 24 * 3600, 60, 90 * 24 * 3600),
      adminEmail,
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
    security: securityFrom(env, int, problems),
  };
  if (problems.length) throw new ConfigError(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  return config;
}

/** A limit of `limit` attempts per `windowSeconds` (a token bucket that refills at that rate). */
export interface RateLimit {
  limit: number;
  windowSeconds: number;
}

/**
 * Abuse limits of the api (README "Security"). Login limits count failed attempts only (a success gives its
 * tokens back); registration limits count every attempt that got past validation.
 */
export interface SecurityConfig {
  /**
   * Addresses (or CIDR ranges) of reverse proxies whose X-Forwarded-For is believed. Empty (the default): the
   * socket's peer is the client and X-Forwarded-For is ignored, so a client cannot choose its rate-limit key.
   */
  trustedProxies: string[];
  login: { perAddressAndEmail: RateLimit; perAddress: RateLimit; perEmail: RateLimit };
  register: { perAddress: RateLimit; perEmail: RateLimit };
  /** scrypt hashes at once, and waiting, per api process (src/contexts/users/password.ts). */
  passwordHashConcurrency: number;
  passwordHashQueue: number;
  /** Read-your-writes waits (?min_version, ?wait_for) one client may hold at once. */
  waitsPerClient: number;
}

function securityFrom(
  env: Env,
  int: (name: string, fallback: number, min: number, max: number) => number,
  problems: string[],
): SecurityConfig {
  const trustedProxies = (env.TRUSTED_PROXIES ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  for (const proxy of trustedProxies) {
    const [address = '', prefix, ...rest] = proxy.split('/');
    const family = isIP(address);
    const bits = prefix === undefined ? 0 : Number(prefix);
    if (family === 0 || rest.length > 0 || (prefix !== undefined && (!/^\d{1,3}$/.test(prefix) || bits > (family === 4 ? 32 : 128)))) {
      problems.push(`TRUSTED_PROXIES must be a comma-separated list of IP addresses or CIDR ranges, got "${proxy}"`);
    }
  }
  const loginWindow = int('LOGIN_LIMIT_WINDOW_SECONDS', 900, 1, 7 * 24 * 3600);
  const registerWindow = int('REGISTER_LIMIT_WINDOW_SECONDS', 3600, 1, 7 * 24 * 3600);
  const per = (limit: number, windowSeconds: number): RateLimit => ({ limit, windowSeconds });
  return {
    trustedProxies,
    login: {
      perAddressAndEmail: per(int('LOGIN_LIMIT_PER_ADDRESS_AND_EMAIL', 10, 1, 1_000_000), loginWindow),
      perAddress: per(int('LOGIN_LIMIT_PER_ADDRESS', 50, 1, 1_000_000), loginWindow),
      perEmail: per(int('LOGIN_LIMIT_PER_EMAIL', 30, 1, 1_000_000), loginWindow),
    },
    register: {
      perAddress: per(int('REGISTER_LIMIT_PER_ADDRESS', 20, 1, 1_000_000), registerWindow),
      perEmail: per(int('REGISTER_LIMIT_PER_EMAIL', 5, 1, 1_000_000), registerWindow),
    },
    passwordHashConcurrency: int('PASSWORD_HASH_CONCURRENCY', 2, 1, 64),
    passwordHashQueue: int('PASSWORD_HASH_QUEUE', 32, 0, 10_000),
    waitsPerClient: int('WAITS_PER_CLIENT', 4, 1, 1000),
  };
}

/**
 * Values that have been published in this repository or its documentation, or are placeholders everyone
 * tries first. A token signed with one of them must never be accepted, so no process may run with one.
 */
const PUBLIC_JWT_SECRETS = new Set(['dev-only-secret-change-me-0123456789abcdef', 'dev-only-jwt-secret-change-me-0123456789abcdef']);
const PUBLIC_ADMIN_PASSWORDS = new Set([
  'admin123',
  'admin',
  'administrator',
  'password',
  'password123',
  'changeme',
  'change-me',
  'secret',
  'letmein',
  '12345678',
  '123456789012',
  'qwertyuiop',
  'correct horse battery staple',
]);
const PLACEHOLDER = /change[-_ ]?me|replace[-_ ]?me|your[-_ ]?secret|^x+$/i;
const distinct = (value: string) => new Set(value).size;

/**
 * The rules for JWT_SECRET and ADMIN_PASSWORD. Everywhere: present, the secret ≥ 32 characters and never a
 * published one. Outside `NODE_ENV=development` also: no placeholder or low-variety secret, and an admin
 * password of ≥ 12 characters that is not a common default and does not contain the admin's mail name.
 * Values are never echoed: the message names the rule only.
 */
export function secretProblems(
  s: { jwtSecret: string; adminPassword: string },
  opts: { development: boolean; adminEmail: string },
): string[] {
  const problems: string[] = [];
  const generate = '(`make up` writes generated ones into .env; `make dev` keeps its own in .data/secrets.json)';
  if (s.jwtSecret) {
    if (s.jwtSecret.length < 32) problems.push(`JWT_SECRET must be at least 32 characters ${generate}`);
    else if (PUBLIC_JWT_SECRETS.has(s.jwtSecret))
      problems.push(`JWT_SECRET is a value published in the repository: anyone could sign tokens with it ${generate}`);
    else if (!opts.development && (PLACEHOLDER.test(s.jwtSecret) || distinct(s.jwtSecret) < 10)) {
      problems.push(`JWT_SECRET looks like a placeholder, not a random value (e.g. \`openssl rand -base64 48\`)`);
    }
  }
  if (s.adminPassword) {
    if (s.adminPassword.length < 8 || s.adminPassword.length > 128) problems.push('ADMIN_PASSWORD must be 8 to 128 characters');
    else if (!opts.development) {
      const local = opts.adminEmail.split('@')[0] ?? '';
      if (PUBLIC_ADMIN_PASSWORDS.has(s.adminPassword.toLowerCase())) problems.push(`ADMIN_PASSWORD is a well-known default ${generate}`);
      else if (s.adminPassword.length < 12) problems.push('ADMIN_PASSWORD must be at least 12 characters outside NODE_ENV=development');
      else if (distinct(s.adminPassword) < 6 || PLACEHOLDER.test(s.adminPassword))
        problems.push('ADMIN_PASSWORD is too simple: use a random one');
      else if (local.length >= 3 && s.adminPassword.toLowerCase().includes(local))
        problems.push('ADMIN_PASSWORD must not contain the name of ADMIN_EMAIL');
    }
  }
  return problems;
}
