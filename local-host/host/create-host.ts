import express, { type Express } from 'express';
import { API_ROUTES } from '#functions/index.ts';
import type { AegisContext } from '#shared/context.ts';
import { createApiApp } from '#shared/http-api/api-app.ts';
import type { PrebuiltAnswers } from '#shared/http-api/prebuilt-answers.ts';
import { DASHBOARD_DIR } from '../dashboard-dir.ts';

/**
 * The local host's app: every function's routes on one router (a request is
 * matched once, not tried app after app), the same envelope and order of
 * checks a Lambda function has, and the dashboard at `/`.
 */
export function createHost(
  context: AegisContext,
  {
    dashboardDir = DASHBOARD_DIR,
    answers,
  }: { dashboardDir?: string; answers?: PrebuiltAnswers | undefined } = {},
): Express {
  return createApiApp(context, {
    routes: API_ROUTES,
    answers,
    extra: [express.static(dashboardDir, { index: 'index.html', maxAge: 0, fallthrough: true })],
  });
}
