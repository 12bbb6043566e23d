import { apiGatewayEvent, type EventOptions } from '#shared/http-api/apigw-event.ts';
import type { ApiHandler } from '#shared/http-api/lambda.ts';

export interface InvokeResult {
  status: number;
  headers: Record<string, unknown>;
  body: string;
  json: unknown;
}

/** Calls a Lambda handler with a real API Gateway v2 event and parses the answer. */
export async function invokeHandler(
  handler: ApiHandler,
  options: EventOptions,
): Promise<InvokeResult> {
  const result = await handler(apiGatewayEvent(options));
  const body = result.body ?? '';
  let json: unknown = null;
  try {
    json = body === '' ? null : JSON.parse(body);
  } catch {}
  return {
    status: result.statusCode ?? 0,
    headers: (result.headers ?? {}) as Record<string, unknown>,
    body,
    json,
  };
}
