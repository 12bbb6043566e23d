import express, { type Express } from 'express';
import { FUNCTIONS } from '#functions/index.ts';
import type { AegisContext } from '#shared/context.ts';
import { createApiApp } from '#shared/http-api/api-app.ts';
import { DASHBOARD_DIR } from '../dashboard-dir.ts';

/**
 * The local host's app: every function's app behind one port, the same
 * middleware a Lambda function gets, and the dashboard at `/`.
 */
export function createHost(context: AegisContext, { dashboardDir = DASHBOARD_DIR } = {}): Express {
  const functions = Object.values(FUNCTIONS);
  return createApiApp(context, {
    apps: functions.map((f) => f.createApp(context)),
    routes: functions.flatMap((f) => f.routes),
    extra: [express.static(dashboardDir, { index: 'index.html', maxAge: 0, fallthrough: true })],
  });
}
