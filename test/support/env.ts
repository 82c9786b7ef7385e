/**
 * Endpoints of the embedded stack for integration tests, set by scripts/with-stack.ts (`make test`).
 * A test run without them fails loudly instead of silently skipping the real-infrastructure tests.
 */
export function stackEnv(): {
  dynamodbEndpoint: string;
  databaseUrl: string;
  kafkaBrokers: string[];
  smtpHost: string;
  smtpPort: number;
  maildevUrl: string;
} {
  const need = (name: string): string => {
    const value = process.env[name];
    if (!value)
      throw new Error(`${name} is not set: run integration tests through \`make test\` (scripts/with-stack.ts starts the embedded stack)`);
    return value;
  };
  return {
    dynamodbEndpoint: need('DYNAMODB_ENDPOINT'),
    databaseUrl: need('DATABASE_URL'),
    kafkaBrokers: need('KAFKA_BROKERS').split(','),
    smtpHost: need('SMTP_HOST'),
    smtpPort: Number(need('SMTP_PORT')),
    maildevUrl: need('MAILDEV_URL'),
  };
}

/**
 * The seeded admin's login and the api's JWT secret of this run. scripts/with-stack.ts generates them per run
 * (no test may rely on a value written in the repository: the processes refuse those).
 */
export function stackSecrets(): { adminEmail: string; adminPassword: string; jwtSecret: string } {
  const need = (name: string): string => {
    const value = process.env[name];
    if (!value)
      throw new Error(`${name} is not set: run end-to-end tests through \`make test\` (scripts/with-stack.ts generates the secrets)`);
    return value;
  };
  return {
    adminEmail: (process.env.ADMIN_EMAIL || 'admin@example.com').toLowerCase(),
    adminPassword: need('ADMIN_PASSWORD'),
    jwtSecret: need('JWT_SECRET'),
  };
}

/** A fresh id per test so tests never need clean-up and never see each other's data. */
export const uniq = (prefix = 't') => `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
