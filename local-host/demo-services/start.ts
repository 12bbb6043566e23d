import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Environment, readEnv } from '#shared/env.ts';
import { UserFacingError } from '#shared/errors.ts';
import { BugReportStore } from './bug-reports.ts';
import { bugTrackerService } from './bug-tracker.ts';
import { type RequestLog, serviceListener } from './json-service.ts';
import { qaAgentService } from './qa-agent.ts';
import { WebhookInbox } from './webhook-inbox.ts';

export const DEFAULT_DEMO_HOST = '127.0.0.1';
export const DEFAULT_DEMO_PORT = 8080;
/** The bug tracker listens this far above the QA agent: 8080 and 8090, the ports the original's configs use. */
export const BUG_TRACKER_PORT_OFFSET = 10;
export const MAX_DEMO_PORT = 65535 - BUG_TRACKER_PORT_OFFSET;

/** The variables the demo services read: the same names `.aegis.yaml` uses, so one shell configures both sides. */
export const DEMO_ENV = {
  qaAgentApiKey: 'QAAGENT_API_KEY',
  bugTrackerApiKey: 'BUGALIZER_API_KEY',
  webhookSecret: 'AEGIS_DEMO_WEBHOOK_SECRET',
} as const;

/**
 * The webhook secret when AEGIS_DEMO_WEBHOOK_SECRET is unset: the demo
 * configs default to the same, so their webhooks arrive signed and verified
 * with no setup. A demo value, known to all: never use it for a real webhook.
 */
export const DEFAULT_DEMO_WEBHOOK_SECRET = 'aegis-demo-secret';

export interface DemoServicesOptions {
  host?: string;
  /** The QA agent's port; the bug tracker takes port + 10. 0: both get free ports. */
  port?: number;
  /** Where the API keys and the webhook secret are read (DEMO_ENV); no keys and the default secret when omitted. */
  env?: Environment;
  /** Receives one line per request. */
  log?: RequestLog;
}

export interface DemoServices {
  qaAgentUrl: string;
  bugTrackerUrl: string;
  webhookUrl: string;
  close(): Promise<void>;
}

/** Listening failed (port in use, no such address); the message names host and port. */
export class DemoListenError extends UserFacingError {}

/** Starts the simulated QA agent and bug tracker; resolves once both are listening. */
export async function startDemoServices(options: DemoServicesOptions = {}): Promise<DemoServices> {
  const host = options.host ?? DEFAULT_DEMO_HOST;
  const port = options.port ?? DEFAULT_DEMO_PORT;
  if (!Number.isInteger(port) || port < 0 || port > MAX_DEMO_PORT)
    throw new UserFacingError(`port must be an integer from 0 to ${MAX_DEMO_PORT}, got ${port}`);
  const env = options.env ?? {};
  const log = options.log ?? (() => {});
  const reports = new BugReportStore();
  const webhooks = new WebhookInbox(
    readEnv(env, DEMO_ENV.webhookSecret) ?? DEFAULT_DEMO_WEBHOOK_SECRET,
  );
  const qaAgent = createServer(
    serviceListener(
      qaAgentService({
        apiKey: readEnv(env, DEMO_ENV.qaAgentApiKey),
        isReported: (test) => reports.hasReportFor(test),
      }),
      log,
    ),
  );
  const bugTracker = createServer(
    serviceListener(
      bugTrackerService({ apiKey: readEnv(env, DEMO_ENV.bugTrackerApiKey), reports, webhooks }),
      log,
    ),
  );
  const qaAgentPort = await listen(qaAgent, host, port, 'QA agent');
  let bugTrackerPort: number;
  try {
    const wanted = port === 0 ? 0 : port + BUG_TRACKER_PORT_OFFSET;
    bugTrackerPort = await listen(bugTracker, host, wanted, 'bug tracker');
  } catch (error) {
    await closeServer(qaAgent);
    throw error;
  }
  const bugTrackerUrl = `http://${urlHost(host)}:${bugTrackerPort}`;
  let closing: Promise<void> | undefined;
  return {
    qaAgentUrl: `http://${urlHost(host)}:${qaAgentPort}`,
    bugTrackerUrl,
    webhookUrl: `${bugTrackerUrl}/api/v1/webhooks`,
    close: () => {
      closing ??= Promise.all([closeServer(qaAgent), closeServer(bugTracker)]).then(() => {});
      return closing;
    },
  };
}

function listen(server: Server, host: string, port: number, label: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(new DemoListenError(describeListenError(error, host, port, label)));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

function describeListenError(
  error: NodeJS.ErrnoException,
  host: string,
  port: number,
  label: string,
): string {
  switch (error.code) {
    case 'EADDRINUSE':
      return `port ${port} is already in use: the ${label} cannot listen on ${host}:${port}`;
    case 'EACCES':
      return `permission denied: the ${label} cannot listen on ${host}:${port} (ports below 1024 need privileges)`;
    case 'EADDRNOTAVAIL':
      return `the ${label} cannot listen on ${host}:${port}: ${host} is not an address of this machine`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the ${label} cannot listen on ${host}:${port}: host ${host} not found`;
    default:
      return `the ${label} cannot listen on ${host}:${port}: ${error.message}`;
  }
}

/** A URL host that reaches the server: a wildcard address is reached through loopback. */
function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeIdleConnections();
    // Answers are immediate, so this only cuts off clients that keep a connection open and idle.
    setTimeout(() => server.closeAllConnections(), 1000).unref();
  });
}
