import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, EventBridgeEvent } from 'aws-lambda';

export interface EventOptions {
  method?: string;
  path: string;
  /** Already encoded, without `?`: `limit=5&event_type=step.completed`. */
  query?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** An API Gateway HTTP API (payload format 2.0) event, as Lambda receives it. */
export function apiGatewayEvent({
  method = 'GET',
  path,
  query = '',
  headers = {},
  body,
}: EventOptions): APIGatewayProxyEventV2 {
  const lowerHeaders = Object.fromEntries(
    Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]),
  );
  const now = new Date();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: query,
    headers: { host: 'aegis.execute-api.local', 'user-agent': 'aegis-invoke', ...lowerHeaders },
    ...(query === ''
      ? {}
      : { queryStringParameters: Object.fromEntries(new URLSearchParams(query)) }),
    requestContext: {
      accountId: '000000000000',
      apiId: 'aegis',
      domainName: 'aegis.execute-api.local',
      domainPrefix: 'aegis',
      http: {
        method,
        path,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'aegis-invoke',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: false,
  };
}

export type ScheduledEvent = EventBridgeEvent<'Scheduled Event', Record<string, never>>;

/** What an EventBridge schedule (`rate(1 minute)`) sends. */
export function scheduledEvent(): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: ['arn:aws:events:us-east-1:000000000000:rule/aegis-webhook-drain'],
    detail: {},
  };
}

export function isScheduledEvent(event: unknown): event is ScheduledEvent {
  return (
    typeof event === 'object' &&
    event !== null &&
    (event as { source?: unknown }).source === 'aws.events' &&
    (event as { 'detail-type'?: unknown })['detail-type'] === 'Scheduled Event'
  );
}
