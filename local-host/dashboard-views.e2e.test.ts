import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { parseConfig } from '#shared/config/load.ts';
import { AegisContext } from '#shared/context.ts';
import {
  DESKTOP,
  fastestFirstRenderMs,
  hasChromium,
  launchChromium,
  openPage,
  PHONE,
  SKIPPED,
  screenshot,
} from '#test/support/browser.ts';
import { claimRun, finishRun, queueRun, step } from '#test/support/runs.ts';
import { type StubRoute, startStub, stubForTest } from '#test/support/stub-service.ts';
import { captureLogger } from '#test/support/temp.ts';
import { type RunningHost, startHost } from './host/start-host.ts';

/*
 * The run and workflow views (/#/runs/<id>, /#/workflows/<key>) in Debian's Chromium against the
 * real host, with a stub QA agent whose failures follow a known pattern, so that the views must
 * show exact numbers: over six runs of ten tests `always` fails every run, `flipping` on odd runs
 * and `once` in run 2 only, and two failures a run name no test. Discover fails its first attempt
 * in run 1 (the retry passes) and both attempts in run 4 (that run fails).
 */

const WAIT = { timeout: 10_000 };
/** What the page's first render may take on the local host (SPEC §14). */
const FIRST_RENDER_MS = 300;

const failing = (n: number) => [
  'always',
  ...(n % 2 === 1 ? ['flipping'] : []),
  ...(n === 2 ? ['once'] : []),
];

function agentRoutes(hold?: { until: Promise<unknown> | null }): Record<string, StubRoute> {
  let tests = 0;
  return {
    'GET /health': { body: { status: 'ok' } },
    // Calls 1 (run 1, retried) and 5, 6 (both attempts of run 4) fail.
    'GET /api/routes': (_request, n) =>
      [1, 5, 6].includes(n)
        ? { status: 500, body: { error: 'routes broke' } }
        : { body: { routes: [{ method: 'GET', path: '/users' }] } },
    'POST /api/runs': () => {
      const n = ++tests;
      const failures = [
        ...failing(n).map((test) => ({ test, error: `${test} broke` })),
        { error: 'no name at all' },
        { test: 42, error: 'a number as name' },
      ];
      return {
        body: { total: 10, passed: 10 - failures.length, failed: failures.length, failures },
        ...(hold?.until ? { waitFor: hold.until } : {}),
      };
    },
  };
}

/**
 * A context whose workflows use `qaUrl`, with `extra` YAML (auth, webhooks) at the top level and
 * its history in a fresh directory; `dispose` closes it and removes the directory.
 */
function makeContext(qaUrl: string, extra = '') {
  const dir = mkdtempSync(join(tmpdir(), 'aegis-views-'));
  const yaml = `
aegis: { name: Aegis views, version: 0.1.0 }
${extra}
history_db_path: ${join(dir, 'history.db')}
services:
  qaagent: { name: QA Agent, url: "${qaUrl}" }
workflows:
  suite:
    name: Nightly suite
    schedule: ["0 3 1 1 *"]
    steps:
      - { type: discover, service: qaagent, retries: 1, retry_delay: 0 }
      - { type: test, service: qaagent }
  trend:
    name: Two weeks of runs
    steps:
      - { type: test, service: qaagent }
`;
  const { config } = parseConfig(yaml, join(dir, '.aegis.yaml'), {}, dir);
  const context = new AegisContext({
    config,
    configSource: null,
    env: {},
    logger: captureLogger('WARN').logger,
  });
  const dispose = async () => {
    await context.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { context, dispose };
}

/** The same, for one test. */
function contextFor(qaUrl: string, extra = ''): AegisContext {
  const { context, dispose } = makeContext(qaUrl, extra);
  onTestFinished(dispose);
  return context;
}

async function hostFor(context: AegisContext): Promise<RunningHost> {
  const running = await startHost({ context, host: '127.0.0.1', port: 0 });
  onTestFinished(() => running.close({ graceMs: 500 }));
  return running;
}

/**
 * Two weeks of the `trend` workflow, written through the run queue's own API as the bench does:
 * 1–4 runs a day, one in seven failing, durations between 0.9 and 3 s, and tests that flip.
 */
async function seedTrend(context: AegisContext): Promise<void> {
  const stores = await context.stores();
  const dayMs = 86_400_000;
  const today = Math.floor(Date.now() / dayMs) * dayMs;
  let n = 0;
  for (let day = 13; day >= 1; day--) {
    for (let i = 0; i < 1 + ((day * 7) % 4); i++) {
      n++;
      const now = today - day * dayMs + 3_600_000 * (2 + i * 3);
      const names = ['test_login', ...(n % 3 === 0 ? ['test_checkout'] : [])];
      const failures = names.map((test) => ({ test, error: `${test} broke` }));
      const durationMs = 900 + ((n * 7919) % 2100);
      const result = step('test', {
        data: { total: 24, passed: 24 - failures.length, failed: failures.length, failures },
        duration_ms: durationMs,
        attempts: [{ attempt: 1, success: true, error: null, duration_ms: durationMs }],
      });
      const runId = await queueRun(stores, 'trend', { trigger: 'schedule', now });
      await claimRun(stores, runId, { now });
      await finishRun(stores, runId, [{ index: 0, step: result }], {
        workflow: 'trend',
        success: n % 7 !== 0,
        now,
        durationMs,
      });
    }
  }
}

const text = async (page: Page, selector: string) =>
  ((await page.locator(selector).first().textContent()) ?? '').replace(/\s+/g, ' ').trim();
const rowCells = (page: Page, test: string) =>
  page.locator(`.test-table tr[data-test="${test}"] > *`).allTextContents();

describe.skipIf(!hasChromium)(
  `dashboard views in headless Chromium against the real host${hasChromium ? '' : ` (${SKIPPED})`}`,
  () => {
    let browser: Browser;

    beforeAll(async () => {
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
    });

    describe('over six runs of the known pattern', () => {
      let aegis: RunningHost;
      let runIds: string[];

      beforeAll(async () => {
        const qa = await startStub(agentRoutes());
        const { context, dispose } = makeContext(qa.url);
        await seedTrend(context);
        runIds = [];
        for (let i = 0; i < 6; i++) runIds.push((await context.runWorkflow('suite')).run_id);
        aegis = await startHost({ context, host: '127.0.0.1', port: 0 });
        return async () => {
          await aegis.close({ graceMs: 500 });
          await dispose();
          await qa.close();
        };
      });

      it('the workflow view: exact test counts, flips and flaky flags, trends, history', async () => {
        const { page, errors } = await openPage(browser, `${aegis.url}/#/workflows/suite`);
        await page.locator('.test-table tr[data-test="once"]').waitFor(WAIT);
        expect(await fastestFirstRenderMs(page, FIRST_RENDER_MS)).toBeLessThan(FIRST_RENDER_MS);

        // Flaky first, then by failure rate.
        expect(
          await page
            .locator('.test-table tbody tr')
            .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-test'))),
        ).toEqual(['flipping', 'always', 'once']);
        const cells = async (test: string) => (await rowCells(page, test)).slice(0, 6);
        expect(await cells('flipping')).toEqual([
          'flipping',
          '⚑ flaky',
          '50\u00a0%',
          '3',
          '3',
          '5',
        ]);
        expect(await cells('always')).toEqual(['always', '', '100\u00a0%', '6', '0', '0']);
        expect(await cells('once')).toEqual(['once', '', '20\u00a0%', '1', '4', '1']);
        // The last failure links to its run.
        expect(await page.locator('tr[data-test="once"] a').getAttribute('href')).toBe(
          `#/runs/${runIds[1]}`,
        );
        expect(await text(page, '#tests-title + .count')).toBe(
          '3 over the last 50 runs with tests · 1 flaky',
        );

        // Trends over the last 30 days: run 4 failed.
        const stat = (name: string) => text(page, `[data-stat="${name}"] dd`);
        expect(await stat('Runs')).toBe('6');
        expect(await stat('Success rate')).toBe('83 %');
        expect(await stat('Passed')).toBe('5 of 6');
        expect(await stat('Tests failed')).toBe('37 %'); // 22 of 60
        expect(await page.locator('.chart svg').count()).toBe(2);
        const todayBar = page.locator('.chart svg').first().locator('g').last();
        expect(await todayBar.locator('title').textContent()).toMatch(
          /^\d{4}-\d\d-\d\d: 5 of 6 passed \(83\s%\)$/,
        );
        expect(await text(page, '.view .workflow-next')).toMatch(
          /^Next run in \d+\sd \(.+\) 0 3 1 1 \*$/,
        );

        // History: newest first, with test counts and triggers.
        const history = page.locator('.view .run-list > li');
        expect(await history.count()).toBe(6);
        expect(await history.first().getAttribute('data-key')).toBe(runIds[5]);
        expect(await history.locator('.tests').allTextContents()).toEqual([
          '7/10 passed', // run 6: always + the two unnamed
          '6/10 passed', // run 5: always, flipping + two
          '7/10 passed', // run 4: it failed in discover; its tests still ran
          '6/10 passed',
          '6/10 passed', // run 2: always, once + two
          '6/10 passed',
        ]);
        expect(await history.locator('.pill').allTextContents()).toEqual([
          '✓passed',
          '✓passed',
          '✗failed',
          '✓passed',
          '✓passed',
          '✓passed',
        ]);
        expect(await history.first().locator('.run-trigger').textContent()).toBe('cli');
        await screenshot(page, 'workflow-desktop');

        // A status filter with nothing in it, and back.
        await page.locator('#history-status').selectOption('cancelled');
        await page
          .locator('.view .placeholder', { hasText: 'No cancelled runs here.' })
          .waitFor(WAIT);
        expect(page.url()).toContain('#/workflows/suite?status=cancelled');
        await page.locator('#history-status').selectOption('completed');
        await history.nth(5).waitFor(WAIT);

        // Pages of four.
        await page.goto(`${aegis.url}/#/workflows/suite?limit=4`);
        await page.locator('.pager', { hasText: 'runs 1–4' }).waitFor(WAIT);
        expect(await history.count()).toBe(4);
        await page.getByRole('link', { name: 'Older ›' }).click();
        await page.locator('.pager', { hasText: 'runs 5–6' }).waitFor(WAIT);
        expect(
          await history.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key'))),
        ).toEqual([runIds[1], runIds[0]]);
        expect(await page.getByRole('link', { name: 'Older ›' }).count()).toBe(0);
        await page.getByRole('link', { name: '‹ Newer' }).click();
        await page.locator('.pager', { hasText: 'runs 1–4' }).waitFor(WAIT);

        // Narrow: nothing wider than the phone's screen (the tests table scrolls in its box).
        const phone = await openPage(browser, `${aegis.url}/#/workflows/suite`, PHONE);
        await phone.page.locator('.test-table tr[data-test="once"]').waitFor(WAIT);
        expect(
          await phone.page.evaluate('document.documentElement.scrollWidth'),
        ).toBeLessThanOrEqual(390);
        await screenshot(phone.page, 'workflow-phone');

        // Two weeks of seeded runs, for the README's picture.
        const trend = await openPage(browser, `${aegis.url}/#/workflows/trend?days=14`, DESKTOP);
        await trend.page.locator('.test-table tr[data-test="test_checkout"]').waitFor(WAIT);
        expect(await trend.page.locator('.chart svg').first().locator('g').count()).toBe(14);
        await screenshot(trend.page, 'workflow-trend');
        expect([...errors, ...phone.errors, ...trend.errors]).toEqual([]);
      });

      it('the run view: steps, attempts, errors, 6/10 passed and the failures', async () => {
        const { page, errors } = await openPage(browser, `${aegis.url}/#/runs/${runIds[0]}`);
        await page.locator('.failures li').nth(3).waitFor(WAIT);
        expect(await fastestFirstRenderMs(page, FIRST_RENDER_MS)).toBeLessThan(FIRST_RENDER_MS);

        const fact = (term: string) => text(page, `.facts > div:has(> dt:text-is("${term}")) > dd`);
        expect(await fact('Tests')).toBe('6/10 passed · 4 failed');
        expect(await fact('Trigger')).toBe('cli');
        expect(await fact('Duration')).toMatch(/^\d+(\.\d+)?\s(ms|s)$/);
        expect(await fact('Started')).toMatch(/ago \(\d\d?:\d\d:\d\d(\s[AP]M)?\)$/);
        expect(await page.locator('.view [data-status] > .panel-head .pill').textContent()).toBe(
          '✓passed',
        );

        // The failures, named or not.
        expect(await page.locator('.failures li').allTextContents()).toEqual([
          'alwaysalways broketest on qaagent',
          'flippingflipping broketest on qaagent',
          'no test nameno name at alltest on qaagent',
          'no test namea number as nametest on qaagent',
        ]);

        // Discover's two attempts: the first failed, the retry passed.
        const discover = page.locator('.steps > .step').first();
        expect(await discover.locator('.detail-head').textContent()).toMatch(
          /^✓passeddiscover on qaagent · \d+\sms · 2 attempts$/,
        );
        expect(await discover.locator('.attempts > li').allTextContents()).toEqual([
          expect.stringMatching(/^Attempt 1 ✗failed \d+\sms — qaagent GET \/api\/routes: HTTP 500/),
          expect.stringMatching(/^Attempt 2 ✓passed \d+\sms$/),
        ]);
        // The test step's data, folded until asked for.
        const data = page.locator('.steps > .step').nth(1).locator('details');
        expect(await data.locator('pre').isVisible()).toBe(false);
        await data.locator('summary').click();
        expect(await data.locator('pre').textContent()).toContain('"flipping broke"');
        // Ended: it can be rerun, not cancelled.
        expect(await page.getByRole('button', { name: 'Rerun failed steps' }).isVisible()).toBe(
          true,
        );
        expect(await page.getByRole('button', { name: 'Cancel run' }).count()).toBe(0);
        await screenshot(page, 'run-desktop');

        // Run 4: discover failed on both attempts, and so did the run.
        await page.goto(`${aegis.url}/#/runs/${runIds[3]}`);
        await page.locator('.view [data-status="failed"]').waitFor(WAIT);
        expect(
          await page.locator('.steps > .step').first().locator('.detail-error').textContent(),
        ).toMatch(/^qaagent GET \/api\/routes: HTTP 500/);
        expect(await fact('Tests')).toBe('7/10 passed · 3 failed');

        const phone = await openPage(browser, `${aegis.url}/#/runs/${runIds[0]}`, PHONE);
        await phone.page.locator('.failures li').nth(3).waitFor(WAIT);
        expect(
          await phone.page.evaluate('document.documentElement.scrollWidth'),
        ).toBeLessThanOrEqual(390);
        await screenshot(phone.page, 'run-phone');

        // An unknown run: said so, with the way back.
        await page.goto(`${aegis.url}/#/runs/no-such-run`);
        await page
          .locator('#view-error', { hasText: 'no run with id "no-such-run"' })
          .waitFor(WAIT);
        expect([...errors, ...phone.errors]).toEqual([]);
      });

      it('the overview: test counts, triggers and links on every run; the runs first on a phone', async () => {
        const { page, errors } = await openPage(browser, `${aegis.url}/`);
        const rows = page.locator('#run-list > li.run');
        await rows.nth(5).waitFor(WAIT);
        expect(await fastestFirstRenderMs(page, FIRST_RENDER_MS)).toBeLessThan(FIRST_RENDER_MS);
        expect(await rows.first().locator('.tests').textContent()).toBe('7/10 passed');
        expect(await rows.first().locator('.tests').getAttribute('class')).toBe('tests tone-fail');
        expect(await rows.first().locator('.run-trigger').textContent()).toBe('cli');
        expect(await rows.first().locator('.run-started time').textContent()).toMatch(
          /^(just now|\d+\ss ago) \(\d\d?:\d\d:\d\d(\s[AP]M)?\)$/,
        );
        expect(await rows.first().locator('.run-started time').getAttribute('title')).toBeTruthy();
        // The workflow's card: its next scheduled run, its name leading to its view.
        const card = page.locator('#workflow-list > li[data-key="suite"]');
        expect(await card.locator('.workflow-next code').textContent()).toBe('0 3 1 1 *');
        await card.getByRole('link', { name: 'Nightly suite' }).click();
        await page.locator('.test-table').waitFor(WAIT);
        expect(page.url()).toMatch(/#\/workflows\/suite$/);
        // Back, and a step chip leads to the run's view.
        await page.goBack();
        await rows.first().locator('a.step-chip').first().click();
        await page.locator('.failures').waitFor(WAIT);
        expect(page.url()).toContain(`#/runs/${runIds[5]}`);

        const phone = await openPage(browser, `${aegis.url}/`, PHONE);
        await phone.page.locator('#run-list > li.run').nth(5).waitFor(WAIT);
        const top = (selector: string) =>
          phone.page.locator(selector).evaluate((e) => e.getBoundingClientRect().top);
        expect(await top('#runs')).toBeLessThan(await top('#services'));
        expect(await top('#services')).toBeLessThan(await top('#events'));
        expect([...errors, ...phone.errors]).toEqual([]);
      });
    });

    it('cancels a running run and reruns it through the buttons; redelivers a webhook', async () => {
      const hold: { until: Promise<unknown> | null } = { until: null };
      let release = () => {};
      hold.until = new Promise<void>((resolve) => {
        release = resolve;
      });
      const qa = await stubForTest(agentRoutes(hold));
      const receiver = await stubForTest({ 'POST /hook': { body: { ok: true } } });
      const context = contextFor(
        qa.url,
        `webhooks:\n  - { url: "${receiver.url}/hook", events: [workflow.completed, workflow.cancelled] }`,
      );
      const aegis = await hostFor(context);
      const started = await fetch(`${aegis.url}/api/workflows/suite/run?async=true`, {
        method: 'POST',
      });
      const { run_id: runId } = (await started.json()) as { run_id: string };

      const { page, errors } = await openPage(browser, `${aegis.url}/#/runs/${runId}`);
      await page.locator('.view [data-status="running"]').waitFor(WAIT);
      expect(await page.locator('.steps > .step.is-pending').allTextContents()).toEqual([
        '○ test on qaagent: not finished yet',
      ]);
      await page.getByRole('button', { name: 'Cancel run' }).click();
      await page.locator('.view [data-status="cancelled"]').waitFor(WAIT);
      expect(await page.locator('.actions .outcome').textContent()).toBe('✓ Cancelled');
      expect(await text(page, '.facts > div:has(> dt:text-is("Reason")) > dd')).toBe(
        'cancelled through the API',
      );
      await screenshot(page, 'run-cancelled');

      // Rerun from the start: the page goes to the new run, which links back to its parent.
      release();
      hold.until = null;
      await page.getByRole('button', { name: 'Rerun from start' }).click();
      await page.waitForURL((url) => !url.hash.includes(runId), WAIT);
      const rerunId = decodeURIComponent(new URL(page.url()).hash.replace('#/runs/', ''));
      await page.locator('.view [data-status="passed"]').waitFor(WAIT);
      expect(
        await page
          .locator('.facts a', { hasText: `run ${runId.slice(0, 8)}` })
          .getAttribute('href'),
      ).toBe(`#/runs/${runId}`);
      expect(await text(page, '.facts > div:has(> dt:text-is("Trigger")) > dd')).toBe('rerun');
      expect(await text(page, '.facts > div:has(> dt:text-is("Tests")) > dd')).toMatch(
        /^\d+\/10 passed/,
      );
      expect(rerunId).not.toBe(runId);

      // Redeliver the rerun's workflow.completed from the overview.
      await page.goto(`${aegis.url}/?refresh=1`);
      const delivered = page.locator('#delivery-list > li', { hasText: 'workflow.completed' });
      await delivered.locator('.pill', { hasText: 'delivered' }).waitFor(WAIT);
      const before = receiver.calls('POST /hook').length;
      await delivered.getByRole('button', { name: 'Redeliver' }).click();
      await delivered.locator('.outcome', { hasText: '✓ Queued again' }).waitFor(WAIT);
      await expect.poll(() => receiver.calls('POST /hook').length, WAIT).toBe(before + 1);
      const ids = receiver.calls('POST /hook').map((r) => r.headers['webhook-id']);
      expect(ids.at(-1)).toBe(ids.at(-2));
      expect(errors).toEqual([]);
    });

    it('with protected reads: asks for the key, streams with it, and says which scope a key lacks', async () => {
      const qa = await stubForTest(agentRoutes());
      const receiver = await stubForTest({ 'POST /hook': { body: { ok: true } } });
      const context = contextFor(
        qa.url,
        `auth:
  protect_reads: true
  keys: [{ name: viewer, key: viewer-secret, scopes: [read] }]
webhooks:
  - { url: "${receiver.url}/hook", events: [workflow.completed] }`,
      );
      const { run_id: runId } = await context.runWorkflow('suite');
      const aegis = await hostFor(context);
      const streams: Request[] = [];
      const { page, errors } = await openPage(browser, `${aegis.url}/`, DESKTOP, async (p) => {
        p.on('request', (r) => {
          if (r.url().includes('/api/events/stream')) streams.push(r);
        });
      });
      const dialog = page.locator('#key-dialog');
      await dialog.waitFor(WAIT);
      expect(await page.locator('#key-submit').textContent()).toBe('Show the dashboard');
      await page.getByLabel('API key', { exact: true }).fill('viewer-secret');
      await page.locator('#key-submit').click();
      await page.locator('#run-list > li.run').first().waitFor(WAIT);
      await page.locator('#connection', { hasText: 'Live' }).waitFor(WAIT);
      expect(streams.at(-1)?.headers()['x-api-key']).toBe('viewer-secret');

      // Running needs the `run` scope: the message says so, not a silent failure.
      await page.getByRole('button', { name: 'Run Nightly suite' }).click();
      await page
        .locator('.workflow-message', { hasText: "not allowed: key 'viewer' lacks scope 'run'" })
        .waitFor(WAIT);
      // Redelivering needs `admin`.
      const delivery = page.locator('#delivery-list > li').first();
      await delivery.locator('.pill', { hasText: 'delivered' }).waitFor(WAIT);
      await delivery.getByRole('button', { name: 'Redeliver' }).click();
      await delivery.locator('.outcome', { hasText: "lacks scope 'admin'" }).waitFor(WAIT);
      // And a rerun `run`.
      await page.goto(`${aegis.url}/#/runs/${runId}`);
      await page.getByRole('button', { name: 'Rerun failed steps' }).click();
      await page.locator('.actions .outcome', { hasText: "lacks scope 'run'" }).waitFor(WAIT);
      expect(await page.locator('.actions .outcome').textContent()).toBe(
        "✗ Rerun failed steps: not allowed: key 'viewer' lacks scope 'run'. Forget the API key (at the bottom) and enter one that has it",
      );
      expect(await dialog.isVisible()).toBe(false);
      await screenshot(page, 'run-forbidden');
      expect(errors).toEqual([]);
    });

    it('updates live over the event stream, and polls when the stream is not there', async () => {
      const qa = await stubForTest(agentRoutes());
      const context = contextFor(qa.url);
      const aegis = await hostFor(context);
      // No ?refresh: while the stream is live the page polls every 30 s, so only the stream is fast.
      const { page, errors } = await openPage(browser, `${aegis.url}/`);
      await page.locator('#connection', { hasText: 'Live' }).waitFor(WAIT);
      await page.locator('#runs-empty', { hasText: 'No runs yet' }).waitFor(WAIT);
      const since = Date.now();
      const { run_id: runId } = await context.runWorkflow('suite');
      await page.locator(`#run-list > li[data-key="${runId}"][data-status="passed"]`).waitFor(WAIT);
      expect(Date.now() - since).toBeLessThan(5_000);

      // A host whose stream answers 501 (as Lambda's does): "Polling", and runs still appear.
      const polled = await openPage(browser, `${aegis.url}/?refresh=1`, DESKTOP, (p) =>
        p.route('**/api/events/stream*', (route) =>
          route.fulfill({
            status: 501,
            contentType: 'application/json',
            body: '{"error":"not_implemented"}',
          }),
        ),
      );
      await polled.page.locator('#connection', { hasText: 'Polling' }).waitFor(WAIT);
      const second = await context.runWorkflow('suite');
      await polled.page.locator(`#run-list > li[data-key="${second.run_id}"]`).waitFor(WAIT);
      expect([...errors, ...polled.errors]).toEqual([]);
    });
  },
);
