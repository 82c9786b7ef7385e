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
 */
export const createDynamoClient = (opts: DynamoClientOptions = {}): DynamoDBClient =>
  new DynamoDBClient({
    region: opts.region ?? 'ap-northeast-1',
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    ...(opts.credentials
      ? { credentials: opts.credentials }
      : opts.endpoint
        ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
        : {}),
  });
