import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

export interface DynamoClientOptions {
  /** DYNAMODB_ENDPOINT. Set: DynamoDB Local (dev, compose, tests). Absent: AWS itself, with the default credential chain. */
  endpoint?: string;
  /** AWS_REGION; DynamoDB Local ignores it but the SDK needs one to sign. */
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/**
 * DynamoDB Local accepts any credentials but the SDK refuses to send a request without some, and a developer
 * machine or a container usually has none: with an endpoint and no explicit credentials, use placeholders.
 * The SDK's logger middleware is removed: with the default no-op logger it still builds a redacted copy of every
 * request and response to hand to it (a walk of every item of every Scan page: about 10 % of a rebuild's CPU in
 * a profile), and nothing here reads SDK logs.
 */
export function createDynamoClient(opts: DynamoClientOptions = {}): DynamoDBClient {
  const client = new DynamoDBClient({
    region: opts.region ?? 'ap-northeast-1',
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    ...(opts.credentials
      ? { credentials: opts.credentials }
      : opts.endpoint
        ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
        : {}),
  });
  client.middlewareStack.remove('loggerMiddleware');
  return client;
}
