import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { parseConfig } from '#shared/config/load.ts';
import { AegisContext } from '#shared/context.ts';
import { PACKAGE_VERSION } from '#shared/version.ts';
import {
  DESKTOP,
  hasChromium,
  launchChromium,
  openPage,
  PHONE,
  SKIPPED,
  screenshot,
} from '#test/support/browser.ts';
import {
  BUG_TRACKER_ROUTES,
  QA_AGENT_ROUTES,
  type RecordedRequest,
  type StubAnswer,
  type StubService,
  startStub,
} from '#test/support/stub-service.ts';
import { captureLogger } from '#test/support/temp.ts';
import { type RunningHost, startHost } from './host/start-host.ts';

/*
 * The dashboard as a person meets it: the real host with stub QA services,
 * the page in headless Chromium (Debian's `chromium`, driven by playwright-core).
 */

const API_KEY = 'e2e-secret-key';
/** The page's own polling period, shortened so the test does not wait 4 s per refresh. */
const PAGE_PATH = '/?refresh=1';
const WAIT = { timeout: 10_000 };

/** A service name that would run script if the page used innerHTML. */
const HOSTILE_NAME = 'QA Agent <img src=x onerror="window.__xss=1">';

describe.skipIf(!hasChromium)(
  `dashboard in headless Chromium against the real host${hasChromium ? '' : ` (${SKIPPED})`}`,
  () => {
    let browser: Browser;
    let qaAgent: StubService;
    let bugTracker: StubService;
    let webhookReceiver: StubService;
    let dir: string;
    /** How long the QA agent takes to answer a test run: long enough to see "Running…". */
    let runDelayMs = 0;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'aegis-dashboard-'));
      const runs = QA_AGENT_ROUTES['POST /api/runs'] as (
        r: RecordedRequest,
        n: number,
      ) => StubAnswer;
      qaAgent = await startStub({
        ...QA_AGENT_ROUTES,
        'POST /api/runs': (request, n) => ({ ...runs(request, n), delayMs: runDelayMs }),
      });
      bugTracker = await startStub(BUG_TRACKER_ROUTES);
      webhookReceiver = await startStub({ 'POST /hook': { body: { ok: true } } });
      browser = await launchChromium();
    });

    afterAll(async () => {
      await browser?.close();
      await Promise.all([qaAgent?.close(), bugTracker?.close(), webhookReceiver?.close()]);
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    /** A context for the host; each test gets its own history. */
    function makeContext(name: string, apiKey = ''): AegisContext {
      const yaml = `
aegis: { name: Aegis e2e, version: 0.1.0 }
auth: { api_key: "${apiKey}" }
history_db_path: ${join(dir, `${name}.db`)}
webhooks:
  - url: ${webhookReceiver.url}/hook
    events: ["*"]
services:
  qaagent:
    name: '${HOSTILE_NAME}'
    url: ${qaAgent.url}
    description: Discovers routes and runs the tests
    features: ["Route Discovery", "Test Runs"]
  bugalizer:
    name: Bug Tracker
    url: ${bugTracker.url}
workflows:
  full_pipeline:
    name: Full QA Pipeline
    steps:
      - { type: discover, service: qaagent }
      - { type: test, service: qaagent, timeout: 60 }
      - { type: submit_bugs, service: bugalizer, condition: has_failures, retries: 2 }
      - { type: verify, service: qaagent, condition: on_failure }
      - { type: report, service: qaagent, condition: always }
`;
      const { config } = parseConfig(yaml, join(dir, `${name}.aegis.yaml`), {}, dir);
      return new AegisContext({
        config,
        configSource: null,
        env: {},
        logger: captureLogger('WARN').logger,
      });
    }

    async function host(context: AegisContext, port = 0): Promise<RunningHost> {
      const running = await startHost({ context, host: '127.0.0.1', port });
      onTestFinished(() => running.close({ graceMs: 500 }));
      return running;
    }

    const open = (url: string, options = DESKTOP) => openPage(browser, url, options);

    const runRows = (page: Page) => page.locator('#run-list > li.run');
    const shot = screenshot;

    it('shows services, workflows and runs, and runs a workflow with the Run button', async () => {
      const context = makeContext('main');
      const existing = await context.runWorkflow('full_pipeline');
      const aegis = await host(context);
      const { page, errors } = await open(`${aegis.url}${PAGE_PATH}`);

      // The header and the services with their live health.
      await page.locator('#version', { hasText: `v${PACKAGE_VERSION}` }).waitFor(WAIT);
      const qa = page.locator('#service-list > li[data-key="qaagent"]');
      await qa.locator('.pill', { hasText: 'healthy' }).waitFor(WAIT);
      expect(await qa.locator('.service-name').textContent()).toBe(HOSTILE_NAME);
      expect(await page.locator('#service-list img').count()).toBe(0);
      expect(await page.evaluate('window.__xss')).toBeUndefined();
      expect(await qa.locator('.latency').textContent()).toMatch(/^\d+(\.\d+)?\s(ms|s)$/);
      expect(
        await page.locator('#service-list > li[data-key="bugalizer"]').textContent(),
      ).toContain('Bug Tracker');
      expect(await page.locator('#services-count').textContent()).toBe('2 of 2 services healthy');

      // The workflow and its steps with their badges.
      const workflow = page.locator('#workflow-list > li[data-key="full_pipeline"]');
      await workflow.waitFor(WAIT);
      expect(await workflow.locator('.workflow-name').textContent()).toBe('Full QA Pipeline');
      const steps = workflow.locator('.wf-step');
      expect(await steps.count()).toBe(5);
      expect(await steps.nth(2).textContent()).toMatch(
        /submit_bugs\s*on\s*bugalizer.*if has_failures.*retries 2.*timeout 30\ss/,
      );
      expect(await steps.nth(1).textContent()).toMatch(/timeout 1\smin/);

      // The run made before the page opened: its status and each step's ✓ ✗ ⊘.
      const first = page.locator(`#run-list > li[data-key="${existing.run_id}"]`);
      await first.waitFor(WAIT);
      expect(await first.locator('.run-head > .pill').textContent()).toBe('✓passed');
      expect(await first.locator('.run-workflow').textContent()).toBe('Full QA Pipeline');
      expect(await first.locator('.run-started time').textContent()).toMatch(
        /^(just now|\d+\ss ago) \(.+\)$/,
      );
      expect(await first.locator('.tests').textContent()).toBe('2/3 passed');
      expect(await first.locator('a.step-chip').allTextContents()).toEqual([
        '✓discover on qaagent: passed',
        '✓test on qaagent: passed',
        '✓submit_bugs on bugalizer: passed',
        '⊘verify on qaagent: skipped',
        '✓report on qaagent: passed',
      ]);
      // Events and webhook deliveries of that run.
      await page
        .locator('#event-list .event-type', { hasText: 'workflow.completed' })
        .waitFor(WAIT);
      await page.locator('#delivery-list .pill', { hasText: 'delivered' }).first().waitFor(WAIT);

      // A step leads to the run's view, with the step's data (from /api/runs/{id}).
      await first.locator('a.step-chip', { hasText: 'test' }).click();
      const testStep = page.locator('.steps > .step', { hasText: 'test on qaagent' });
      await testStep.locator('summary').click();
      await testStep.locator('.detail-data', { hasText: 'expected 201, got 500' }).waitFor(WAIT);
      await page.goBack();

      // Run: the button says so while the run goes on, then the new run is listed first.
      runDelayMs = 1500;
      const button = workflow.getByRole('button', { name: 'Run Full QA Pipeline' });
      await button.click();
      await workflow
        .locator('.run-button[aria-busy="true"]', { hasText: 'Running…' })
        .waitFor(WAIT);
      await page
        .locator('#run-list > li.run[data-status="running"]')
        .first()
        .waitFor({ ...WAIT, state: 'attached' });
      await workflow.locator('.workflow-message', { hasText: 'Passed' }).waitFor(WAIT);
      runDelayMs = 0;
      await runRows(page).nth(1).waitFor(WAIT);
      expect(await runRows(page).count()).toBe(2);
      expect(await runRows(page).nth(1).getAttribute('data-key')).toBe(existing.run_id);
      expect(await runRows(page).first().getAttribute('data-status')).toBe('passed');
      expect(await button.getAttribute('aria-busy')).toBeNull();
      expect(await page.locator('#offline-banner').isHidden()).toBe(true);

      await shot(page, 'desktop');
      const dark = await open(`${aegis.url}${PAGE_PATH}`, { ...DESKTOP, colorScheme: 'dark' });
      await runRows(dark.page).nth(1).waitFor(WAIT);
      await dark.page.locator('#service-list .pill').first().waitFor(WAIT);
      await shot(dark.page, 'desktop-dark');
      const phone = await open(`${aegis.url}${PAGE_PATH}`, PHONE);
      await runRows(phone.page).nth(1).waitFor(WAIT);
      await phone.page.locator('#service-list .pill').first().waitFor(WAIT);
      // Nothing wider than the phone's screen.
      expect(await phone.page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(
        390,
      );
      await shot(phone.page, 'phone');

      expect([...errors, ...dark.errors, ...phone.errors]).toEqual([]);
    });

    it('asks for the API key when the API answers 401, and keeps it for the session only', async () => {
      const aegis = await host(makeContext('auth', API_KEY));
      const { page, errors } = await open(`${aegis.url}${PAGE_PATH}`);
      const button = page.getByRole('button', { name: 'Run Full QA Pipeline' });
      await button.waitFor(WAIT);
      const dialog = page.locator('#key-dialog');
      const input = page.getByLabel('API key', { exact: true });

      await button.click();
      await dialog.waitFor(WAIT);
      expect(await page.locator('#key-error').isHidden()).toBe(true);
      await input.fill('wrong-key');
      await page.getByRole('button', { name: 'Run workflow' }).click();
      // A wrong key: asked again, saying why.
      await page.locator('#key-error', { hasText: 'not accepted' }).waitFor(WAIT);
      expect(await dialog.isVisible()).toBe(true);
      await shot(page, 'api-key-dialog');
      await input.fill(API_KEY);
      await input.press('Enter');
      await dialog.waitFor({ ...WAIT, state: 'hidden' });
      await runRows(page).first().waitFor(WAIT);
      await page.locator('.workflow-message', { hasText: 'Passed' }).waitFor(WAIT);

      const storage = await page.evaluate(
        '({ session: sessionStorage.getItem("aegis.apiKey"), local: localStorage.length })',
      );
      expect(storage).toEqual({ session: API_KEY, local: 0 });

      // Asked once: the next run sends the kept key without a dialog.
      await button.click();
      await runRows(page).nth(1).waitFor(WAIT);
      expect(await dialog.isVisible()).toBe(false);

      // Cancelling the dialog leaves the workflow unrun, and says so.
      await page.getByRole('button', { name: 'Forget API key' }).click();
      await button.click();
      await dialog.waitFor(WAIT);
      await page.getByRole('button', { name: 'Cancel' }).click();
      await page.locator('.workflow-message', { hasText: 'needs an API key' }).waitFor(WAIT);
      expect(await runRows(page).count()).toBe(2);
      expect(errors).toEqual([]);
    });

    it('shows "API unreachable" while the host is down and recovers when it is back', async () => {
      const context = makeContext('offline');
      await context.runWorkflow('full_pipeline');
      const first = await host(context);
      const { page, errors } = await open(`${first.url}${PAGE_PATH}`);
      await runRows(page).first().waitFor(WAIT);
      await page.locator('#connection', { hasText: 'Live' }).waitFor(WAIT);

      await first.close({ graceMs: 500 });
      const banner = page.locator('#offline-banner');
      await banner.waitFor(WAIT);
      expect(await banner.textContent()).toContain('API unreachable');
      expect(await page.locator('#connection').textContent()).toContain('Offline');
      // The last data stays on screen.
      expect(await runRows(page).count()).toBe(1);
      await shot(page, 'api-unreachable');

      await host(makeContext('offline'), Number(new URL(first.url).port));
      await banner.waitFor({ ...WAIT, state: 'hidden' });
      await page.locator('#connection', { hasText: 'Live' }).waitFor(WAIT);
      expect(await runRows(page).count()).toBe(1);
      expect(errors).toEqual([]);
    });
  },
);
